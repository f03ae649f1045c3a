package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"xbr/shared/remote"
)

// Pool metadata backups, in Xen Orchestra's layout
// (@xen-orchestra/backups _PoolMetadataBackup.mjs, RemoteAdapter.mjs
// listPoolMetadataBackups and deleteOldMetadataBackups):
//
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/data           the raw GET /pool/xmldbdump
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/xbr-state.json xbr's state (never secrets)
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/metadata.json  written LAST: the commit marker
//
// XO lists a <ts> folder by reading its metadata.json; a folder without one
// is not a backup. Deleting removes metadata.json first, so a half-deleted
// backup is never listed.
const (
	PoolMetadataDir = "xo-pool-metadata-backups"
	PoolMetaData    = "data"
	PoolMetaState   = "xbr-state.json"
	PoolMetaMarker  = "metadata.json"
	// ModeMetadata is PoolMetaBackup.Mode.
	ModeMetadata = "metadata"
)

// PoolMetaID names one pool metadata backup:
// "<remote>:xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>".
type PoolMetaID struct {
	Remote     string
	ScheduleID string
	PoolUUID   string
	Time       time.Time // UTC, whole seconds
}

// String is the id `xbr restore-metadata` takes.
func (id PoolMetaID) String() string { return id.Remote + ":" + id.Dir() }

// Dir is the backup's folder on its remote, XO's backup id.
func (id PoolMetaID) Dir() string {
	return PoolMetadataDir + "/" + id.ScheduleID + "/" + id.PoolUUID + "/" + FormatTimestamp(id.Time)
}

// Key is the key of one file of the backup (PoolMetaData, PoolMetaState, PoolMetaMarker).
func (id PoolMetaID) Key(file string) string { return id.Dir() + "/" + file }

// NewPoolMetaID checks the parts of an id.
func NewPoolMetaID(remoteName, scheduleID, poolUUID string, t time.Time) (PoolMetaID, error) {
	id := PoolMetaID{Remote: remoteName, ScheduleID: scheduleID, PoolUUID: poolUUID, Time: t.UTC().Truncate(time.Second)}
	if err := ValidateRemoteName(remoteName); err != nil {
		return PoolMetaID{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	for _, part := range [][2]string{{"schedule id", scheduleID}, {"pool uuid", poolUUID}} {
		if err := ValidateVMUUID(part[1]); err != nil {
			return PoolMetaID{}, fmt.Errorf("%w: %s: %w", ErrInvalidID, part[0], err)
		}
	}
	return id, nil
}

// ParsePoolMetaID parses an id strictly; errors wrap ErrInvalidID and quote the value.
func ParsePoolMetaID(s string) (PoolMetaID, error) {
	id, err := parsePoolMetaID(s)
	if err != nil {
		return PoolMetaID{}, fmt.Errorf("%w %.160q: %w", ErrInvalidID, s, err)
	}
	return id, nil
}

func parsePoolMetaID(s string) (PoolMetaID, error) {
	if err := idBytes(s); err != nil {
		return PoolMetaID{}, err
	}
	name, path, ok := strings.Cut(s, ":")
	if !ok {
		return PoolMetaID{}, errors.New("missing ':' after the remote name")
	}
	parts := strings.Split(path, "/")
	if len(parts) != 4 || parts[0] != PoolMetadataDir {
		return PoolMetaID{}, fmt.Errorf("want <remote>:%s/<schedule id>/<pool uuid>/<timestamp>", PoolMetadataDir)
	}
	t, err := ParseTimestamp(parts[3])
	if err != nil {
		return PoolMetaID{}, err
	}
	return NewPoolMetaID(name, parts[1], parts[2], t)
}

// PoolMetadata is metadata.json: XO's fields, then xbr's own object.
type PoolMetadata struct {
	JobID        string          `json:"jobId"`
	JobName      string          `json:"jobName"`
	Pool         json.RawMessage `json:"pool"`       // the XAPI pool record, as XO stores it
	PoolMaster   json.RawMessage `json:"poolMaster"` // the XAPI host record of the master
	ScheduleID   string          `json:"scheduleId"`
	ScheduleName string          `json:"scheduleName"`
	Timestamp    int64           `json:"timestamp"` // ms since the epoch, also the folder name
	Version      string          `json:"version"`
	XBR          *PoolMetaXBR    `json:"xbr,omitempty"`
}

// PoolMetadataVersion is PoolMetadata.Version.
const PoolMetadataVersion = "2.0.0"

// PoolMetaXBR is what xbr adds to metadata.json.
type PoolMetaXBR struct {
	Pool      string `json:"pool"` // the configured pool name
	PoolUUID  string `json:"pool_uuid"`
	Size      int64  `json:"size"`   // bytes of data
	SHA256    string `json:"sha256"` // of data
	State     string `json:"state"`  // the state file beside it
	RunID     string `json:"run_id,omitempty"`
	WrittenBy string `json:"written_by"`
}

// PoolMetaBackup is one listed pool metadata backup.
type PoolMetaBackup struct {
	ID         string    `json:"id"` // what `xbr restore-metadata` takes
	Remote     string    `json:"remote"`
	PoolUUID   string    `json:"pool_uuid"`
	PoolName   string    `json:"pool_name"` // the pool's name_label, or the configured name
	Timestamp  time.Time `json:"timestamp"`
	Size       int64     `json:"size"`
	Job        string    `json:"job"`
	Schedule   string    `json:"schedule"`
	JobID      string    `json:"job_id"`
	ScheduleID string    `json:"schedule_id"`
	WrittenBy  string    `json:"written_by"` // "xbr <version>" or "xo"
	Mode       string    `json:"mode"`       // ModeMetadata
}

// CommitPoolMeta writes metadata.json, the commit marker, once data (and
// the state) are committed.
func CommitPoolMeta(ctx context.Context, r Creator, id PoolMetaID, m PoolMetadata) error {
	if m.Timestamp/1000 != id.Time.Unix() || m.ScheduleID != id.ScheduleID {
		return fmt.Errorf("commit pool metadata backup %s: metadata describes schedule %s at %d", id, m.ScheduleID, m.Timestamp)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("commit pool metadata backup %s: %w", id, err)
	}
	if err := putSmall(ctx, r, id.Key(PoolMetaMarker), data); err != nil {
		return fmt.Errorf("commit pool metadata backup %s: %w", id, err)
	}
	return nil
}

// DeletePoolMeta removes one backup: metadata.json first (it stops being
// listed), then every other file of its folder, then the folder where the
// remote has folders. Missing files are fine, so
// a retried delete finishes an interrupted one.
func DeletePoolMeta(ctx context.Context, r remote.Remote, id PoolMetaID) error {
	if err := r.Delete(ctx, id.Key(PoolMetaMarker)); err != nil {
		return fmt.Errorf("delete pool metadata backup %s: %w", id, err)
	}
	infos, err := r.List(ctx, id.Dir()+"/")
	if err != nil {
		return fmt.Errorf("delete pool metadata backup %s (already unlisted): %w", id, err)
	}
	var errs []error
	for _, in := range infos {
		errs = append(errs, r.Delete(ctx, in.Key))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete pool metadata backup %s (already unlisted): %w", id, err)
	}
	// XO counts <ts> folders in its retention: leave none behind.
	if err := remote.RemoveEmptyFolder(ctx, r, id.Dir()); err != nil {
		return fmt.Errorf("delete pool metadata backup %s (already unlisted): %w", id, err)
	}
	return nil
}

// PoolMetaBeyond returns the backups to delete so that keep remain: the
// oldest first, by timestamp (Xen Orchestra keeps the last `retention`
// folders). It is a pure function of its input.
func PoolMetaBeyond(backups []PoolMetaID, keep int) []PoolMetaID {
	sorted := slices.SortedFunc(slices.Values(backups), func(a, b PoolMetaID) int { return a.Time.Compare(b.Time) })
	if keep < 0 || len(sorted) <= keep {
		return nil
	}
	return sorted[:len(sorted)-keep]
}

// ListPoolMeta lists the pool metadata backups of r, newest first. A
// metadata.json that cannot be read is a problem, not a failure.
func ListPoolMeta(ctx context.Context, r Lister) ([]PoolMetaBackup, []Problem, error) {
	infos, err := r.List(ctx, PoolMetadataDir+"/")
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", r.Name(), err)
	}
	var out []PoolMetaBackup
	var problems []Problem
	for _, in := range infos {
		dir, ok := strings.CutSuffix(in.Key, "/"+PoolMetaMarker)
		if !ok {
			continue
		}
		id, err := ParsePoolMetaID(r.Name() + ":" + dir)
		if err != nil {
			continue // not a backup folder of XO's layout
		}
		b, err := readPoolMeta(ctx, r, id)
		if err != nil {
			problems = append(problems, Problem{Key: in.Key, Err: err})
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b PoolMetaBackup) int { return b.Timestamp.Compare(a.Timestamp) })
	return out, problems, ctx.Err()
}

// maxPoolMetaJSON bounds a metadata.json read (XAPI's pool and host records are a few KiB).
const maxPoolMetaJSON = 4 << 20

func readPoolMeta(ctx context.Context, r Opener, id PoolMetaID) (PoolMetaBackup, error) {
	m, err := readPoolMetadata(ctx, r, id)
	if err != nil {
		return PoolMetaBackup{}, err
	}
	return poolMetaBackup(id, m), nil
}

// ReadPoolMetadata reads and decodes the metadata.json of id; a missing one wraps
// remote.ErrNotFound.
func ReadPoolMetadata(ctx context.Context, r Opener, id PoolMetaID) (PoolMetadata, error) {
	return readPoolMetadata(ctx, r, id)
}

// readPoolMetadata reads and decodes the metadata.json of id.
func readPoolMetadata(ctx context.Context, r Opener, id PoolMetaID) (PoolMetadata, error) {
	rc, err := r.Open(ctx, id.Key(PoolMetaMarker))
	if err != nil {
		return PoolMetadata{}, err
	}
	defer rc.Close()
	var m PoolMetadata
	if err := json.NewDecoder(io.LimitReader(rc, maxPoolMetaJSON)).Decode(&m); err != nil {
		return PoolMetadata{}, fmt.Errorf("decode: %w", err)
	}
	return m, nil
}

func poolMetaBackup(id PoolMetaID, m PoolMetadata) PoolMetaBackup {
	b := PoolMetaBackup{ID: id.String(), Remote: id.Remote, PoolUUID: id.PoolUUID, Timestamp: time.UnixMilli(m.Timestamp).UTC(),
		Job: m.JobName, Schedule: m.ScheduleName, JobID: m.JobID, ScheduleID: m.ScheduleID, WrittenBy: "xo", Mode: ModeMetadata}
	var rec struct {
		NameLabel string `json:"name_label"`
	}
	_ = json.Unmarshal(m.Pool, &rec) // a name is a nicety
	b.PoolName = rec.NameLabel
	if m.XBR != nil {
		b.Size, b.WrittenBy = m.XBR.Size, m.XBR.WrittenBy
		if b.PoolName == "" {
			b.PoolName = m.XBR.Pool
		}
	}
	return b
}
