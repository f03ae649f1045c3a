package restoreclient

import (
	"context"
	"errors"
	"fmt"

	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/repoimage"
)

// Repos opens the remotes' incremental repositories; *fn.Repos is one.
type Repos interface {
	Open(ctx context.Context, name string) (*repo.Repo, error)
}

// listPoints lists the restore points of remote name's repository (vm's only
// when vm is set) as Backups of mode incremental. No repository is no points;
// a repository that cannot be opened or listed is the error, a point whose
// manifest cannot be read a problem.
func listPoints(ctx context.Context, repos Repos, name, vm string) ([]catalog.Backup, []string, error) {
	if repos == nil {
		return nil, nil, nil
	}
	rp, err := repos.Open(ctx, name)
	if errors.Is(err, fn.ErrNoRepository) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	points, err := rp.List(ctx, vm)
	if err != nil {
		return nil, nil, err
	}
	listed := make([]catalog.Backup, len(points))
	errs := make([]error, len(points))
	rp.EachManifest(ctx, points, func(i int, m *repo.Manifest, err error) {
		if err == nil {
			listed[i], err = pointBackup(name, points[i].Point, m)
		}
		errs[i] = err
	})
	var out []catalog.Backup
	var problems []string
	for i, err := range errs {
		if err != nil {
			problems = append(problems, name+": "+err.Error())
			continue
		}
		out = append(out, listed[i])
	}
	return out, problems, ctx.Err()
}

// pointBackup is the listed form of restore point p of remote name, whose manifest is m.
func pointBackup(name string, p repo.Point, m *repo.Manifest) (catalog.Backup, error) {
	id, err := catalog.NewRepoID(name, p.VM, p.Time)
	if err != nil {
		return catalog.Backup{}, err
	}
	d, err := repoimage.Describe(m)
	if err != nil {
		return catalog.Backup{}, fmt.Errorf("restore point %s: %w", p, err)
	}
	b := catalog.Backup{ID: id, Remote: name, VMUUID: p.VM, VMName: d.VMName, Timestamp: id.Time,
		Job: d.Job, Schedule: d.Schedule, JobID: d.JobID, ScheduleID: d.ScheduleID,
		Codec: "zstd", WrittenBy: "xbr", Mode: catalog.ModeIncremental}
	for _, d := range m.Disks {
		b.Size += d.Size
	}
	return b, nil
}

// Point reads the listed form of the repository restore point id (id.Repo).
// A remote without repository, or without that point, is an error wrapping
// remote.ErrNotFound.
func Point(ctx context.Context, repos Repos, id catalog.ID) (catalog.Backup, error) {
	name, ok := id.RepoPoint()
	if !ok {
		return catalog.Backup{}, fmt.Errorf("backup %s: not a restore point of a repository", id)
	}
	p, err := repo.ParsePoint(name)
	if err != nil {
		return catalog.Backup{}, err
	}
	if repos == nil {
		return catalog.Backup{}, fmt.Errorf("backup %s: %w", id, remote.ErrNotFound)
	}
	rp, err := repos.Open(ctx, id.Remote)
	if errors.Is(err, fn.ErrNoRepository) {
		return catalog.Backup{}, fmt.Errorf("backup %s: %w (%w)", id, remote.ErrNotFound, err)
	}
	if err != nil {
		return catalog.Backup{}, err
	}
	m, err := rp.Manifest(ctx, p)
	if err != nil {
		return catalog.Backup{}, err
	}
	return pointBackup(id.Remote, p, m)
}
