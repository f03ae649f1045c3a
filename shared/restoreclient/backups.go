package restoreclient

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/vmname"
)

// QueryBackups is the backups query: a Query, a Listing.
var QueryBackups = events.NewQuery[Query, Listing](events.QueryNameBackups)

// Query selects backups; the zero value is every backup of every remote. It
// is the request of the backups query.
type Query struct {
	Remote string `json:"remote,omitempty"` // one remote; "" = all configured
	VM     string `json:"vm,omitempty"`     // one VM, its uuid or its exact name (ByVM); "" = all VMs
}

// Listing is the answer of the backups query.
type Listing struct {
	Backups []catalog.Backup `json:"backups"`
	// Metadata are the pool metadata backups (xo-pool-metadata-backups/),
	// newest first; listed when the query names no VM.
	Metadata []catalog.PoolMetaBackup `json:"metadata,omitempty"`
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
// named by q is an error. A repository that cannot be opened or listed (a
// wrong key, a damaged config.json, a failed read) is a problem naming its
// remote, even when q names that remote: the full backups beside it are
// still listed.
//
// A q.VM that is a name is resolved by ByVM (vmname.Resolve) over every backup: a name no
// backup carries or several VMs share is an error. Its problems are then those of the VM's
// own folders and of whole remotes (listed again by the VM's uuid): another VM's damaged
// backup does not make its listing incomplete.
func List(ctx context.Context, rs Remotes, repos Repos, q Query) (Listing, error) {
	if q.VM == "" || vmname.IsUUID(q.VM) {
		q.VM = strings.ToLower(q.VM)
		return list(ctx, rs, repos, q)
	}
	if err := vmname.Check(q.VM); err != nil {
		return Listing{}, fmt.Errorf("backups: %w", err)
	}
	all := q
	all.VM = ""
	l, err := list(ctx, rs, repos, all)
	if err != nil {
		return Listing{}, err
	}
	if l.Backups, err = ByVM(l.Backups, q.VM); err != nil {
		return Listing{}, fmt.Errorf("backups: %w", err)
	}
	l.Metadata = nil
	if len(l.Problems) > 0 && len(l.Backups) > 0 {
		// The problems that can hide a backup of this VM are those of its own folders and
		// of whole remotes; another VM's damaged backup, or the pool metadata's, cannot.
		one := q
		one.VM = strings.ToLower(l.Backups[0].VMUUID)
		scoped, err := list(ctx, rs, repos, one)
		if err != nil {
			return Listing{}, err
		}
		l.Problems = scoped.Problems
	}
	return l, nil
}

func list(ctx context.Context, rs Remotes, repos Repos, q Query) (Listing, error) {
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
		if err != nil && q.Remote != "" {
			return Listing{}, fmt.Errorf("backups: remote %s: %w", name, err)
		}
		if err != nil {
			out.Problems = append(out.Problems, name+": remote not listed: "+err.Error())
			continue
		}
		// A repository that cannot be opened or listed hides its points
		// only: the full backups beside it are still listed.
		points, pointProblems, err := listPoints(ctx, repos, name, q.VM)
		if err != nil {
			pointProblems = []string{name + ": restore points not listed: " + err.Error()}
		}
		out.Backups = append(append(out.Backups, bs...), points...)
		if q.VM == "" {
			out.Metadata, problems = appendPoolMeta(ctx, rs, name, out.Metadata, problems)
		}
		for _, p := range problems {
			out.Problems = append(out.Problems, name+": "+p.String())
		}
		out.Problems = append(out.Problems, pointProblems...)
	}
	catalog.SortNewestFirst(out.Backups)
	slices.SortStableFunc(out.Metadata, func(a, b catalog.PoolMetaBackup) int { return b.Timestamp.Compare(a.Timestamp) })
	return out, ctx.Err()
}

// appendPoolMeta adds the pool metadata backups of remote name; what cannot
// be read is a problem.
func appendPoolMeta(ctx context.Context, rs Remotes, name string, to []catalog.PoolMetaBackup,
	problems []catalog.Problem) ([]catalog.PoolMetaBackup, []catalog.Problem) {
	r, err := rs.Get(ctx, name)
	if err != nil {
		return to, append(problems, catalog.Problem{Key: catalog.PoolMetadataDir, Err: err})
	}
	ms, ps, err := catalog.ListPoolMeta(ctx, r)
	if err != nil {
		ps = append(ps, catalog.Problem{Key: catalog.PoolMetadataDir, Err: err})
	}
	return append(to, ms...), append(problems, ps...)
}

func listRemote(ctx context.Context, rs Remotes, name, vm string) ([]catalog.Backup, []catalog.Problem, error) {
	r, err := rs.Get(ctx, name)
	if err != nil {
		return nil, nil, err
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
