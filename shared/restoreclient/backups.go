package restoreclient

import (
	"context"
	"fmt"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
)

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
	Backups []catalog.Backup `json:"backups"`
	// Problems are .json files (or whole remotes) that could not be read; the
	// listing went on without them.
	Problems []string `json:"problems,omitempty"`
}

// Remotes hands out configured remotes; *app.Remotes is one.
type Remotes interface {
	Names() []string
	Get(ctx context.Context, name string) (remote.Remote, error)
}

// List lists the backups q selects, newest first: the full backups of each
// remote and, when repos is not nil, the restore points of its incremental
// repository (Backup.Mode "incremental"). An unreadable remote is a problem,
// not a failure, when q names no remote; a bad query or an unknown remote
// named by q is an error.
func List(ctx context.Context, rs Remotes, repos Repos, q Query) (Listing, error) {
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
	out := Listing{Backups: []catalog.Backup{}}
	for _, name := range names {
		bs, problems, err := listRemote(ctx, rs, name, q.VM)
		var points []catalog.Backup
		var pointProblems []string
		if err == nil {
			points, pointProblems, err = listPoints(ctx, repos, name, q.VM)
		}
		if err != nil && q.Remote != "" {
			return Listing{}, err
		}
		if err != nil {
			out.Problems = append(out.Problems, err.Error())
			continue
		}
		out.Backups = append(append(out.Backups, bs...), points...)
		for _, p := range problems {
			out.Problems = append(out.Problems, name+": "+p.String())
		}
		out.Problems = append(out.Problems, pointProblems...)
	}
	catalog.SortNewestFirst(out.Backups)
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
func Latest(backups []catalog.Backup, vm string) (catalog.Backup, bool) {
	for _, match := range []func(catalog.Backup) bool{
		func(b catalog.Backup) bool { return b.VMUUID == vm },
		func(b catalog.Backup) bool { return b.VMName == vm },
	} {
		for _, b := range backups {
			if match(b) {
				return b, true
			}
		}
	}
	return catalog.Backup{}, false
}

// At is the backup of vm (uuid or name) taken at t, to the second.
func At(backups []catalog.Backup, vm string, t time.Time) (catalog.Backup, bool) {
	t = t.UTC().Truncate(time.Second)
	for _, b := range backups {
		if (b.VMUUID == vm || b.VMName == vm) && b.Timestamp.UTC().Truncate(time.Second).Equal(t) {
			return b, true
		}
	}
	return catalog.Backup{}, false
}
