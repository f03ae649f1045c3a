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
	"xbr/shared/remote"
	"xbr/shared/restoreclient"
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
	if !slices.Contains(s.env.Remotes.Names(), id.Remote) {
		return catalog.Backup{}, missing(field, id.String(), fmt.Sprintf("remote %q is not configured", id.Remote))
	}
	if id.Repo {
		b, err := restoreclient.Point(ctx, s.repos(), id)
		if errors.Is(err, remote.ErrNotFound) {
			return catalog.Backup{}, missing(field, id.String(), "no such backup")
		}
		if err != nil {
			return catalog.Backup{}, upstream(fmt.Errorf("read backup %s: %w", id, err))
		}
		return b, nil
	}
	rm, err := s.env.Remotes.Get(ctx, id.Remote)
	if err != nil {
		return catalog.Backup{}, upstream(err)
	}
	m, err := catalog.ReadMetadata(ctx, rm, id)
	if errors.Is(err, remote.ErrNotFound) {
		return catalog.Backup{}, missing(field, id.String(), "no such backup")
	}
	if err != nil {
		return catalog.Backup{}, upstream(fmt.Errorf("read backup %s: %w", id, err))
	}
	return catalog.BackupOf(id, m), nil
}

// repos is the remotes' incremental repositories, or none.
func (s *Server) repos() restoreclient.Repos {
	if s.env.Repos == nil {
		return nil
	}
	return s.env.Repos
}

// backupsOf lists the backups of vm (a uuid or an exact name), newest first,
// on remoteName ("" = every remote). A name shared by several VMs is refused.
func (s *Server) backupsOf(ctx context.Context, vm, remoteName string) ([]catalog.Backup, error) {
	q := restoreclient.Query{Remote: remoteName}
	if remoteName != "" && !slices.Contains(s.env.Remotes.Names(), remoteName) {
		return nil, missing("remote", remoteName, "is not configured")
	}
	if catalog.ValidateVMUUID(vm) == nil {
		q.VM = vm
	}
	l, err := restoreclient.List(ctx, s.env.Remotes, s.repos(), q)
	if err != nil {
		return nil, upstream(err)
	}
	var out []catalog.Backup
	uuids := map[string]bool{}
	for _, b := range l.Backups {
		if b.VMUUID == vm || (q.VM == "" && b.VMName == vm) {
			out = append(out, b)
			uuids[b.VMUUID] = true
		}
	}
	if len(uuids) > 1 {
		list := make([]string, 0, len(uuids))
		for u := range uuids {
			list = append(list, u)
		}
		sort.Strings(list)
		return nil, badField("vm", vm, "names several VMs ("+strings.Join(list, ", ")+"): give the uuid")
	}
	return out, nil
}

// selectBackup picks vm's newest backup (at zero) or the one taken at at.
func (s *Server) selectBackup(ctx context.Context, vm, remoteName string, at time.Time) (catalog.Backup, error) {
	bs, err := s.backupsOf(ctx, vm, remoteName)
	if err != nil {
		return catalog.Backup{}, err
	}
	if at.IsZero() {
		if b, ok := restoreclient.Latest(bs, vm); ok {
			return b, nil
		}
		return catalog.Backup{}, missing("vm", vm, "has no backup")
	}
	if b, ok := restoreclient.At(bs, vm, at); ok {
		return b, nil
	}
	return catalog.Backup{}, missing("backup", catalog.FormatTimestamp(at), "no backup of "+vm+" was taken at that time")
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

// resolveSR turns an SR uuid or unique name into its uuid (xapi.ResolveSR);
// "" stays "" (the restore function takes the pool's default SR).
func (s *Server) resolveSR(ctx context.Context, pool, sr string) (string, error) {
	if sr == "" {
		return "", nil
	}
	c, err := s.env.Pools.Client(ctx, pool)
	if err != nil {
		return "", upstream(err)
	}
	_, rec, err := xapi.ResolveSR(ctx, c, sr)
	var choice *xapi.SRChoiceError
	switch {
	case errors.Is(err, xapi.ErrNoSuchSR):
		return "", missing("sr", sr, "is not an SR of pool "+pool)
	case errors.As(err, &choice):
		return "", badField("sr", sr, choice.Problem())
	case err != nil:
		return "", upstream(fmt.Errorf("pool %s: %w", pool, err))
	}
	return rec.UUID, nil
}

// request publishes the restore of t; key makes it idempotent.
func (s *Server) request(ctx context.Context, t target, by, key string) (events.RestoreRequested, error) {
	req, err := restoreclient.Publish(ctx, s.env.Conn, s.env.Subjects, events.Source(Name), restoreclient.Params{
		BackupID: t.backup.ID.String(), Pool: t.pool, SR: t.sr, Name: t.name, Start: t.start,
		RequestedBy: by, Key: key,
	}, s.now())
	var fe *events.FieldError
	if errors.As(err, &fe) {
		return req, badField(fe.Field, strings.Trim(fe.Value, `"`), fe.Problem)
	}
	if errors.Is(err, catalog.ErrInvalidID) {
		return req, badField("backup_id", t.backup.ID.String(), err.Error())
	}
	if err != nil {
		return req, upstream(err)
	}
	s.log.Info("restore requested", "restore_id", req.RequestID, "backup_id", req.BackupID, "pool", req.Pool, "sr", req.SR, "requested_by", by)
	return req, nil
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
