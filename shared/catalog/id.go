package catalog

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxRemoteNameLen is the longest remote name a backup id accepts.
const MaxRemoteNameLen = 64

// maxIDLen bounds an id: a remote name, ':', a uuid, '/', a timestamp.
const maxIDLen = MaxRemoteNameLen + 1 + 36 + 1 + 16

// ErrInvalidID is wrapped by every ParseID error.
var ErrInvalidID = errors.New("invalid backup id")

// ID names one backup: a remote, a VM and a timestamp. Its text form is
// "<remote>:<vm-uuid>/<YYYYMMDDTHHMMSSZ>".
type ID struct {
	Remote string
	VM     string    // canonical lowercase uuid
	Time   time.Time // UTC, whole seconds
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
	return ID{Remote: remote, VM: vm, Time: t}, nil
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
		if c := s[i]; c <= 0x20 || c >= 0x7f {
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
func (id ID) String() string { return id.Remote + ":" + id.VM + "/" + id.Timestamp() }

// base is the key of the backup without suffix: "xo-vm-backups/<uuid>/<ts>".
func (id ID) base() string { return VMPrefix(id.VM) + id.Timestamp() }

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
