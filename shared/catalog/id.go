package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxRemoteNameLen is the longest remote name a backup id accepts.
const MaxRemoteNameLen = 64

// RepoPrefix starts the path of a repository restore point's id: the repository's folder
// on the remote (shared/repo's layout), beside XO's xo-vm-backups/.
const RepoPrefix = "xbr-repo/"

// maxIDLen bounds an id: a remote name, ':', "xbr-repo/" for a restore point, a uuid, '/',
// a timestamp.
const maxIDLen = MaxRemoteNameLen + 1 + len(RepoPrefix) + 36 + 1 + 16

// ErrInvalidID is wrapped by every ParseID error.
var ErrInvalidID = errors.New("invalid backup id")

// ID names one backup: a remote, a VM and a timestamp. Its text form is
// "<remote>:<vm-uuid>/<YYYYMMDDTHHMMSSZ>" for a full XVA backup and
// "<remote>:xbr-repo/<vm-uuid>/<YYYYMMDDTHHMMSSZ>" for a restore point of the remote's
// incremental repository (Repo set). A repository point has no XVA, .json or checksum
// file: MetaKey, DataKey and ChecksumKey panic on it (see RepoPoint).
type ID struct {
	Remote string
	VM     string    // canonical lowercase uuid
	Time   time.Time // UTC, whole seconds
	Repo   bool      // a restore point of the incremental repository, not a full backup
}

// NewRepoID returns the id of the repository restore point of vmUUID taken at t (truncated
// to the second, in UTC) on the remote.
func NewRepoID(remote, vmUUID string, t time.Time) (ID, error) {
	id, err := NewID(remote, vmUUID, t)
	id.Repo = err == nil
	return id, err
}

// NewID returns the id of the backup of vmUUID taken at t (truncated to the second, in UTC)
// on the remote, after checking the remote name and the uuid.
func NewID(remote, vmUUID string, t time.Time) (ID, error) {
	if err := ValidateRemoteName(remote); err != nil {
		return ID{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	if err := ValidateVMUUID(vmUUID); err != nil {
		return ID{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	return ID{Remote: remote, VM: vmUUID, Time: t.UTC().Truncate(time.Second)}, nil
}

// ParseID parses "<remote>:<vm-uuid>/<timestamp>" strictly (see the package doc). Errors
// wrap ErrInvalidID, name the bad part and quote its value.
func ParseID(s string) (ID, error) {
	id, err := parseID(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w %.120q: %w", ErrInvalidID, s, err)
	}
	return id, nil
}

func parseID(s string) (ID, error) {
	if err := idBytes(s); err != nil {
		return ID{}, err
	}
	remote, path, ok := strings.Cut(s, ":")
	if !ok {
		return ID{}, errors.New("missing ':' after the remote name (want <remote>:<vm-uuid>/<timestamp>)")
	}
	if err := ValidateRemoteName(remote); err != nil {
		return ID{}, err
	}
	path, isRepo := strings.CutPrefix(path, RepoPrefix)
	vm, ts, ok := strings.Cut(path, "/")
	if !ok {
		return ID{}, fmt.Errorf("path %q: missing '/' between vm uuid and timestamp", path)
	}
	if err := ValidateVMUUID(vm); err != nil {
		return ID{}, err
	}
	t, err := ParseTimestamp(ts)
	if err != nil {
		return ID{}, err
	}
	return ID{Remote: remote, VM: vm, Time: t, Repo: isRepo}, nil
}

// idBytes rejects what can never be part of an id, before it is split: odd bytes first, so
// that no later message prints them, then the path tricks.
func idBytes(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > maxIDLen:
		return fmt.Errorf("longer than %d bytes", maxIDLen)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			return fmt.Errorf("byte 0x20 (a space) at offset %d (an id has no spaces)", i)
		case c < 0x20 || c >= 0x7f:
			return fmt.Errorf("byte 0x%02x at offset %d (only printable ASCII is allowed)", c, i)
		}
	}
	switch {
	case s[0] == '/':
		return errors.New("absolute path")
	case strings.Contains(s, ".."):
		return errors.New(`contains ".."`)
	case strings.ContainsRune(s, '\\'):
		return errors.New("contains a backslash")
	case strings.ContainsRune(s, '%'):
		return errors.New("contains '%' (URL-encoded ids are not decoded)")
	}
	return nil
}

// ValidateRemoteName accepts 1-64 bytes of A-Z a-z 0-9 '-' '_' '.', starting with a letter
// or a digit, without "..". Configuration should hold remote names to the same rule, so that
// every remote can appear in a backup id.
func ValidateRemoteName(name string) error {
	switch {
	case name == "":
		return errors.New("remote name is empty")
	case len(name) > MaxRemoteNameLen:
		return fmt.Errorf("remote name %.80q: longer than %d bytes", name, MaxRemoteNameLen)
	case !isAlnum(name[0]):
		return fmt.Errorf("remote name %q: must start with a letter or a digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf(`remote name %q: contains ".."`, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("remote name %q: byte %q at offset %d (want A-Z a-z 0-9 - _ .)", name, c, i)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Timestamp is the id's time in XO's file-name form.
func (id ID) Timestamp() string { return FormatTimestamp(id.Time) }

// String is the id's text form, which ParseID reads back.
func (id ID) String() string {
	if id.Repo {
		return id.Remote + ":" + RepoPrefix + id.VM + "/" + id.Timestamp()
	}
	return id.Remote + ":" + id.VM + "/" + id.Timestamp()
}

// RepoPoint is the restore point's name in the repository, "<vm-uuid>/<timestamp>"
// (repo.ParsePoint reads it); ok is false for a full backup's id.
func (id ID) RepoPoint() (point string, ok bool) {
	return id.VM + "/" + id.Timestamp(), id.Repo
}

// base is the key of the backup without suffix: "xo-vm-backups/<uuid>/<ts>". A repository
// point has no such files: asking for them is a programming error that would otherwise read
// or delete the full backup taken in the same second, so it panics.
func (id ID) base() string {
	if id.Repo {
		panic("catalog: " + id.String() + " is a repository restore point: it has no full-backup files")
	}
	return VMPrefix(id.VM) + id.Timestamp()
}

// MetaKey is the key of the metadata: "xo-vm-backups/<uuid>/<ts>.json".
func (id ID) MetaKey() string { return id.base() + MetaSuffix }

// DataKey is the key of the XVA: "xo-vm-backups/<uuid>/<ts>.xva".
func (id ID) DataKey() string { return id.base() + DataSuffix }

// ChecksumKey is the key of XO's optional checksum file: "xo-vm-backups/<uuid>/<ts>.xva.checksum".
func (id ID) ChecksumKey() string { return id.base() + ChecksumSuffix }

// MarshalText writes the id's text form, so ids travel in JSON as strings.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses an id as strictly as ParseID.
func (id *ID) UnmarshalText(b []byte) error {
	parsed, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
