package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/restoreclient"
	"xbr/shared/vmname"
	"xbr/shared/xapi"
)

// target is a restore about to be requested.
type target struct {
	backup catalog.Backup
	pool   string
	sr     string // SR uuid; "" = the pool's default SR
	name   string
	start  bool
}

// backupByID reads the metadata of id: 404 when its remote or the backup does not exist.
func (s *Server) backupByID(ctx context.Context, field string, id catalog.ID) (catalog.Backup, error) {
	b, err := restoreclient.Backup(ctx, s.env.Remotes, s.repos(), field, id)
	return b, acceptError(err)
}

// acceptError maps restoreclient's refusals to the doors' answers: 404 for
// a value naming nothing, 400 for a bad one, 409 for "latest" from a
// listing that could not be completed (asking again does not help until a
// remote is repaired, or the backup is named), 502 for the rest.
func acceptError(err error) error {
	var (
		nf  *restoreclient.NotFoundError
		ce  *restoreclient.ChoiceError
		fe  *events.FieldError
		amb *vmname.AmbiguousError
		inc *restoreclient.IncompleteError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return missing(nf.Field, nf.Value, nf.Problem)
	case errors.As(err, &ce):
		return badField(ce.Field, ce.Value, ce.Problem)
	case errors.As(err, &fe):
		return badField(fe.Field, strings.Trim(fe.Value, `"`), fe.Problem)
	case errors.Is(err, catalog.ErrInvalidID):
		return badField("backup_id", "", err.Error())
	case errors.As(err, &amb):
		return vmError(amb.Name, err)
	case errors.As(err, &inc):
		return &refusedError{msg: err.Error()}
	}
	return upstream(err)
}

// repos is the remotes' incremental repositories, or none.
func (s *Server) repos() restoreclient.Repos {
	if s.env.Repos == nil {
		return nil
	}
	return s.env.Repos
}

// listingOf lists the backups of vm (a uuid or an exact name, resolved by
// restoreclient.ByVM), newest first, on remoteName ("" = every remote), with
// what could not be read (Problems: it may hide a newer backup). A name
// shared by several VMs is refused, a name no backup carries is 404.
func (s *Server) listingOf(ctx context.Context, vm, remoteName string) (restoreclient.Listing, error) {
	if remoteName != "" && !slices.Contains(s.env.Remotes.Names(), remoteName) {
		return restoreclient.Listing{}, missing("remote", remoteName, "is not configured")
	}
	l, err := restoreclient.List(ctx, s.env.Remotes, s.repos(), restoreclient.Query{Remote: remoteName, VM: vm})
	if err != nil {
		return restoreclient.Listing{}, vmError(vm, err)
	}
	return l, nil
}

// vmError maps restoreclient's VM resolution errors to the answers the
// doors give: 404 for a name no backup carries, 400 for an ambiguous one.
func vmError(vm string, err error) error {
	var amb *vmname.AmbiguousError
	switch {
	case errors.As(err, &amb):
		return badField("vm", vm, strings.TrimPrefix(amb.Error(), fmt.Sprintf("vm %q: ", vm)))
	case errors.Is(err, vmname.ErrNotFound):
		return missing("vm", vm, "no VM of that name has a backup")
	}
	return upstream(err)
}

// selectBackup picks vm's newest backup (at zero) or the one taken at at
// (restoreclient.Pick).
func (s *Server) selectBackup(ctx context.Context, vm, remoteName string, at time.Time) (catalog.Backup, error) {
	l, err := s.listingOf(ctx, vm, remoteName)
	if err != nil {
		return catalog.Backup{}, err
	}
	b, err := restoreclient.Pick(l, vm, at)
	return b, acceptError(err)
}

// pickPool checks a pool name; "" means the only configured pool.
func (s *Server) pickPool(name string) (string, error) {
	names := s.env.Pools.Names()
	known := strings.Join(names, ", ")
	switch {
	case name == "" && len(names) == 1:
		return names[0], nil
	case name == "":
		return "", badField("pool", "", "is required (configured: "+known+")")
	case !slices.Contains(names, name):
		return "", missing("pool", name, "is not configured (known: "+known+")")
	}
	return name, nil
}

// srChoice is an SR a VM can be restored to.
type srChoice struct {
	UUID, Name, Type string
	Size, Used       int64
	Default          bool
}

// listSRs lists the pool's SRs that can hold disks, the default SR first.
func (s *Server) listSRs(ctx context.Context, pool string) ([]srChoice, error) {
	c, err := s.env.Pools.Client(ctx, pool)
	if err != nil {
		return nil, upstream(err)
	}
	_, p, err := c.Pool(ctx)
	if err != nil {
		return nil, upstream(fmt.Errorf("pool %s: %w", pool, err))
	}
	srs, err := c.SRs(ctx)
	if err != nil {
		return nil, upstream(fmt.Errorf("pool %s: list SRs: %w", pool, err))
	}
	var out []srChoice
	for ref, sr := range srs {
		if !sr.HoldsDisks() {
			continue
		}
		out = append(out, srChoice{UUID: sr.UUID, Name: sr.NameLabel, Type: sr.Type, Size: sr.PhysicalSize,
			Used: sr.PhysicalUtilisation, Default: ref == p.DefaultSR && ref != xapi.SRRef("")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Default != out[j].Default {
			return out[i].Default
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// resolveSR turns an SR uuid or unique name into its uuid
// (restoreclient.ResolveSR); "" stays "" (the restore function takes the
// pool's default SR).
func (s *Server) resolveSR(ctx context.Context, pool, sr string) (string, error) {
	if sr == "" {
		return "", nil
	}
	c, err := s.env.Pools.Client(ctx, pool)
	if err != nil {
		return "", upstream(err)
	}
	uuid, err := restoreclient.ResolveSR(ctx, c, pool, sr)
	return uuid, acceptError(err)
}

// request accepts (restoreclient.Accept) and publishes the restore of t;
// key makes it idempotent. The answer's warnings say what the requester
// gets without asking (a distinct VM name).
func (s *Server) request(ctx context.Context, t target, by, key string) (restoreclient.Accepted, error) {
	now := s.now()
	a, err := restoreclient.Accept(ctx, restoreclient.Target{Pools: s.env.Pools, Remotes: s.env.Remotes, Repos: s.repos()},
		restoreclient.Params{BackupID: t.backup.ID.String(), Pool: t.pool, SR: t.sr, Name: t.name, Start: t.start,
			RequestedBy: by, Key: key}, now)
	if err != nil {
		return a, acceptError(err)
	}
	if err := restoreclient.PublishAccepted(ctx, s.env.Conn, s.env.Subjects, events.Source(Name), a, now); err != nil {
		return a, upstream(err)
	}
	req := a.Request
	s.log.Info("restore requested", "restore_id", req.RequestID, "backup_id", req.BackupID, "pool", req.Pool, "sr", req.SR,
		"requested_by", by, "warnings", len(a.Warnings))
	return a, nil
}

// Free is the SR's free space in bytes.
func (c srChoice) Free() int64 { return max(0, c.Size-c.Used) }

// markHealth sets each backup's last health check from the event history;
// without the history the page shows no mark rather than no backups.
func (s *Server) markHealth(ctx context.Context, bs []catalog.Backup) {
	checks, err := restoreclient.HealthChecks(ctx, s.env.Conn.JetStream(), s.env.Conn, s.env.Subjects, s.env.Streams)
	if err != nil {
		s.log.Warn("health checks not shown", "err", err)
		return
	}
	restoreclient.AnnotateHealth(bs, checks)
}
