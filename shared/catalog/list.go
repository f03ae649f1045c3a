package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"xbr/shared/remote"
)

// Lister is what List needs from a remote; every remote.Remote has it. A remote that is a
// remote.FolderLister (dir, s3) is listed one folder level at a time (see VMFolders).
type Lister interface {
	Name() string
	List(ctx context.Context, prefix string) ([]remote.Info, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Opener is what ReadMetadata needs from a remote.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Filter narrows a listing. The zero value lists every full backup of the remote.
type Filter struct {
	VM         string // only this VM's folder (a uuid); "" for all VMs
	JobID      string // only backups whose metadata jobId is this; "" for all
	ScheduleID string // only backups whose metadata scheduleId is this; "" for all
	// FormerJobID and FormerScheduleID also admit backups whose jobId and scheduleId are
	// these: xbr wrote the job and schedule names there before it wrote UUIDs, and
	// retention must still count (and age out) those backups.
	FormerJobID, FormerScheduleID string
}

// Backup is one listed backup: what `xbr backups ls` shows (the JSON objects of
// `xbr backups ls --json` and of the backups query), restore starts from and prune
// decides on.
type Backup struct {
	ID     ID     `json:"id"` // what `xbr restore` and the webhook accept
	Remote string `json:"remote"`
	VMUUID string `json:"vm_uuid"`
	VMName string `json:"vm_name"`
	// Pool is the name of the pool the VM was backed up from (xbr object);
	// "" when Xen Orchestra wrote the backup.
	Pool      string    `json:"pool,omitempty"`
	Timestamp time.Time `json:"timestamp"` // from the metadata's millisecond timestamp
	Size      int64     `json:"size"`      // bytes of the .xva, from the metadata
	Codec     string    `json:"codec"`     // "gzip", "zstd", "none"; "" when XO wrote it (sniffed at restore)
	// Job and Schedule are the names (xbr object); for a backup Xen Orchestra wrote,
	// which has no names, its jobId and scheduleId stand in.
	Job        string `json:"job"`
	Schedule   string `json:"schedule"`
	JobID      string `json:"job_id"`           // XO's jobId
	ScheduleID string `json:"schedule_id"`      // XO's scheduleId
	SHA256     string `json:"sha256,omitempty"` // xbr object; "" when XO wrote it
	// WrittenBy is "xbr <version>" or "xo".
	WrittenBy string `json:"written_by"`
	// Mode is ModeFull for an XVA backup, ModeIncremental for a restore point of the
	// remote's incremental repository (whose Size is the sum of its disks).
	Mode string `json:"mode"`
	// HealthCheck is the backup's last health check, from the event
	// history (never from the remote: XO's metadata has no place for it);
	// nil when none ran or the listing did not read the history.
	HealthCheck *Health `json:"health_check,omitempty"`
}

// Health is the outcome of a backup's last health check.
type Health struct {
	Passed    bool      `json:"passed"`
	Reason    string    `json:"reason,omitempty"` // why it failed: timeout, guest-failure, boot-failed, restore-failed
	Error     string    `json:"error,omitempty"`
	RequestID string    `json:"request_id"`
	At        time.Time `json:"at"`
}

// ModeIncremental is Backup.Mode of a restore point of the incremental repository.
const ModeIncremental = "incremental"

// Problem is a backup .json that List could not use; the listing went on without it.
type Problem struct {
	Key string
	Err error
}

func (p Problem) String() string { return p.Key + ": " + p.Err.Error() }

// ErrMissingData: a .json whose .xva is absent (a backup half-deleted by hand or by a crash).
var ErrMissingData = errors.New("metadata without its data file")

// readers is how many .json files List reads at once (S3 latency dominates a listing).
const readers = 8

// List returns the full backups on r matching f, newest first, and the .json files it had
// to skip. It fails only when the remote cannot be listed or the filter is invalid.
func List(ctx context.Context, r Lister, f Filter) ([]Backup, []Problem, error) {
	if err := ValidateRemoteName(r.Name()); err != nil {
		return nil, nil, fmt.Errorf("list backups: %w", err)
	}
	if f.VM != "" {
		if err := ValidateVMUUID(f.VM); err != nil {
			return nil, nil, fmt.Errorf("list backups: filter: %w", err)
		}
	}
	infos, err := listFiles(ctx, r, f.VM)
	if err != nil {
		return nil, nil, fmt.Errorf("list backups on %s: %w", r.Name(), err)
	}
	ids, noData := candidates(r.Name(), infos)
	encrypted, err := encryptedRemote(ctx, r)
	if err != nil {
		return nil, nil, fmt.Errorf("list backups on %s: %w", r.Name(), err)
	}
	if encrypted { // every file is ciphertext: name them, read none
		var problems []Problem
		for _, id := range slices.Concat(ids, noData) {
			problems = append(problems, Problem{Key: id.MetaKey(), Err: ErrEncryptedRemote})
		}
		slices.SortFunc(problems, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
		return nil, problems, nil
	}
	problems, err := withoutData(ctx, r, noData)
	if err != nil {
		return nil, nil, fmt.Errorf("list backups on %s: %w", r.Name(), err)
	}
	results, err := readListed(ctx, r, infos, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("list backups on %s: %w", r.Name(), err)
	}
	var backups []Backup
	for i, res := range results {
		switch {
		case res.err != nil:
			problems = append(problems, Problem{Key: ids[i].MetaKey(), Err: res.err})
		case f.matches(res.backup):
			backups = append(backups, res.backup)
		}
	}
	SortNewestFirst(backups)
	slices.SortFunc(problems, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return backups, problems, nil
}

func (f Filter) matches(b Backup) bool {
	if (f.JobID == "" || b.JobID == f.JobID) && (f.ScheduleID == "" || b.ScheduleID == f.ScheduleID) {
		return true
	}
	return f.FormerJobID != "" && b.JobID == f.FormerJobID &&
		(f.FormerScheduleID == "" || b.ScheduleID == f.FormerScheduleID)
}

// candidates picks the committed backups among the listed keys: the <ts>.json files directly
// in a VM folder, and apart those without their .xva.
func candidates(remoteName string, infos []remote.Info) (ids, noData []ID) {
	keys := make(map[string]bool, len(infos))
	for _, in := range infos {
		keys[in.Key] = true
	}
	for _, in := range infos {
		id, ok := idFromMetaKey(remoteName, in.Key)
		if !ok {
			continue
		}
		if !keys[id.DataKey()] {
			noData = append(noData, id)
			continue
		}
		ids = append(ids, id)
	}
	return ids, noData
}

// idFromMetaKey recognises "xo-vm-backups/<uuid>/<ts>.json"; other keys (cache.json.gz,
// delta vdis/, queue files, foreign files) are not backups.
func idFromMetaKey(remoteName, key string) (ID, bool) {
	rest, ok := strings.CutPrefix(key, Root)
	if !ok {
		return ID{}, false
	}
	rest, ok = strings.CutSuffix(rest, MetaSuffix)
	if !ok {
		return ID{}, false
	}
	return splitID(remoteName, rest, "/")
}

// splitID recognises "<vm uuid><sep><timestamp>" as the id of a backup on remoteName.
func splitID(remoteName, s, sep string) (ID, bool) {
	vm, ts, ok := strings.Cut(s, sep)
	if !ok || ValidateVMUUID(vm) != nil {
		return ID{}, false
	}
	t, err := ParseTimestamp(ts)
	if err != nil {
		return ID{}, false
	}
	return ID{Remote: remoteName, VM: vm, Time: t}, true
}

type readResult struct {
	backup Backup
	err    error
}

// readAll reads the metadata of ids with a few readers at once. Per-file errors go into the
// results; only a cancelled context fails the whole listing.
func readAll(ctx context.Context, r Opener, ids []ID) ([]readResult, error) {
	results := make([]readResult, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(readers, len(ids)) {
		wg.Go(func() {
			for i := range next {
				m, vm, err := readMetadata(ctx, r, ids[i])
				if err == nil {
					results[i].backup = summarize(ids[i], m, vm)
				}
				results[i].err = err
			}
		})
	}
	for i := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// ReadMetadata opens and parses the .json of id and checks that it describes that backup
// (its vm.uuid and timestamp match the key).
func ReadMetadata(ctx context.Context, r Opener, id ID) (Metadata, error) {
	m, _, err := readMetadata(ctx, r, id)
	return m, err
}

func readMetadata(ctx context.Context, r Opener, id ID) (Metadata, vmIdent, error) {
	rc, err := r.Open(ctx, id.MetaKey())
	if err != nil {
		return Metadata{}, vmIdent{}, err
	}
	defer rc.Close()
	m, vm, err := parseMetadata(rc)
	if err == nil {
		err = matchesKey(id, m, vm)
	}
	if err != nil {
		return Metadata{}, vmIdent{}, err
	}
	return m, vm, nil
}

// matchesKey checks that metadata describes the backup its key names.
func matchesKey(id ID, m Metadata, vm vmIdent) error {
	if vm.UUID != id.VM || m.Basename() != id.Timestamp() {
		return fmt.Errorf("%w: vm.uuid %q and timestamp %s do not match the key %s",
			ErrInvalidMetadata, vm.UUID, m.Basename(), id.MetaKey())
	}
	return nil
}

// BackupOf is the listed form of the backup id whose metadata is m (as ReadMetadata
// returned it).
func BackupOf(id ID, m Metadata) Backup { return summarize(id, m, ident(m.VM)) }

func summarize(id ID, m Metadata, vm vmIdent) Backup {
	b := Backup{
		ID: id, Remote: id.Remote, VMUUID: id.VM, VMName: vm.Name,
		Timestamp: m.Time(), Size: m.Size, JobID: m.JobID, ScheduleID: m.ScheduleID, WrittenBy: "xo",
		Mode: ModeFull,
	}
	if x := m.Xbr; x != nil {
		b.Codec, b.Job, b.Schedule, b.SHA256 = x.Codec, x.Job, x.Schedule, x.SHA256
		b.Pool = x.Pool
		b.WrittenBy = strings.TrimSpace("xbr " + x.Version)
	}
	if b.Job == "" {
		b.Job = b.JobID
	}
	if b.Schedule == "" {
		b.Schedule = b.ScheduleID
	}
	return b
}

// SortNewestFirst orders backups by time, newest first; equal times by id text, descending.
func SortNewestFirst(backups []Backup) {
	slices.SortFunc(backups, func(a, b Backup) int {
		if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(b.ID.String(), a.ID.String())
	})
}
