package restores

import (
	"context"
	"fmt"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// Backup is one listed backup as clients see it: the JSON objects of
// `xbr backups ls --json` and of the backups query.
type Backup struct {
	ID         string    `json:"id"` // what `xbr restore` and the webhook accept
	Remote     string    `json:"remote"`
	VMUUID     string    `json:"vm_uuid"`
	VMName     string    `json:"vm_name"`
	Timestamp  time.Time `json:"timestamp"`
	Size       int64     `json:"size"`
	Codec      string    `json:"codec"` // gzip, zstd, none; "" for a Xen Orchestra backup (sniffed at restore)
	Job        string    `json:"job"`   // job name; for XO backups, XO's jobId
	Schedule   string    `json:"schedule"`
	JobID      string    `json:"job_id"`
	ScheduleID string    `json:"schedule_id"`
	SHA256     string    `json:"sha256,omitempty"`
	WrittenBy  string    `json:"written_by"` // "xbr <version>" or "xo"
}

// FromCatalog turns a catalog listing entry into a Backup. XO backups have no
// job and schedule names; their ids stand in.
func FromCatalog(b catalog.Backup) Backup {
	out := Backup{ID: b.ID.String(), Remote: b.Remote, VMUUID: b.VMUUID, VMName: b.VMName,
		Timestamp: b.Time, Size: b.Size, Codec: b.Codec, Job: b.Job, Schedule: b.Schedule,
		JobID: b.JobID, ScheduleID: b.ScheduleID, SHA256: b.SHA256, WrittenBy: b.WrittenBy}
	if out.Job == "" {
		out.Job = b.JobID
	}
	if out.Schedule == "" {
		out.Schedule = b.ScheduleID
	}
	return out
}

// QueryBackups is the backups query: a Query, a Listing.
var QueryBackups = events.NewQuery[Query, Listing](events.QueryNameBackups)

// Query selects backups; the zero value is every backup of every remote. It
// is the request of the backups query.
type Query struct {
	Remote string `json:"remote,omitempty"` // one remote; "" = all configured
	VM     string `json:"vm,omitempty"`     // one VM's uuid; "" = all VMs
}

// Listing is the answer of the backups query.
type Listing struct {
	Backups []Backup `json:"backups"`
	// Problems are .json files (or whole remotes) that could not be read; the
	// listing went on without them.
	Problems []string `json:"problems,omitempty"`
}

// Remotes hands out configured remotes; *app.Remotes is one.
type Remotes interface {
	Names() []string
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// List lists the backups q selects, newest first. An unreadable remote is a
// problem, not a failure, when q names no remote; a bad query or an unknown
// remote named by q is an error.
func List(ctx context.Context, rs Remotes, q Query) (Listing, error) {
	if q.VM != "" {
		if err := catalog.ValidateVMUUID(q.VM); err != nil {
			return Listing{}, fmt.Errorf("backups: --vm: %w", err)
		}
	}
	names := rs.Names()
	if q.Remote != "" {
		if !slices.Contains(names, q.Remote) {
			return Listing{}, fmt.Errorf("backups: remote %q is not configured (known: %v)", q.Remote, names)
		}
		names = []string{q.Remote}
	}
	out := Listing{Backups: []Backup{}}
	var all []catalog.Backup
	for _, name := range names {
		bs, problems, err := listRemote(ctx, rs, name, q.VM)
		if err != nil && q.Remote != "" {
			return Listing{}, err
		}
		if err != nil {
			out.Problems = append(out.Problems, err.Error())
			continue
		}
		all = append(all, bs...)
		for _, p := range problems {
			out.Problems = append(out.Problems, name+": "+p.String())
		}
	}
	catalog.SortNewestFirst(all)
	for _, b := range all {
		out.Backups = append(out.Backups, FromCatalog(b))
	}
	return out, ctx.Err()
}

func listRemote(ctx context.Context, rs Remotes, name, vm string) ([]catalog.Backup, []catalog.Problem, error) {
	r, err := rs.Get(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("backups: %w", err)
	}
	return catalog.List(ctx, r, catalog.Filter{VM: vm})
}

// Latest is the newest backup of the VM named vm (its uuid, or its exact
// name when no uuid matches) in a newest-first list.
func Latest(backups []Backup, vm string) (Backup, bool) {
	for _, match := range []func(Backup) bool{
		func(b Backup) bool { return b.VMUUID == vm },
		func(b Backup) bool { return b.VMName == vm },
	} {
		for _, b := range backups {
			if match(b) {
				return b, true
			}
		}
	}
	return Backup{}, false
}

// At is the backup of vm (uuid or name) taken at t, to the second.
func At(backups []Backup, vm string, t time.Time) (Backup, bool) {
	t = t.UTC().Truncate(time.Second)
	for _, b := range backups {
		if (b.VMUUID == vm || b.VMName == vm) && b.Timestamp.UTC().Truncate(time.Second).Equal(t) {
			return b, true
		}
	}
	return Backup{}, false
}
