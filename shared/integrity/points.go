package integrity

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
)

// Points verifies every restore point of rp, the incremental repository on
// remote remoteName, with repo.Verify: every chunk a manifest names exists
// and, with Deep, hashes to its id. Each point is one Result; a point using a
// missing or damaged chunk fails with ErrCorrupt, and the error names each
// such chunk, where the point uses it and every other point that uses it. A
// sound point's SHA256 is the digest of its stored manifest (which names its
// chunks and its disks' SHA-256), its Bytes the size of its disk images. Only
// the points whose manifests the verify read are reported: one committed
// while it ran was not checked. The error is set when the repository cannot
// be listed or a manifest read.
func Points(ctx context.Context, rp *repo.Repo, remoteName string, o Options) ([]Result, error) {
	return points(ctx, rp, remoteName, nil, o)
}

// Point verifies the repository restore point id (id.Repo) of rp as Points
// does, reading its manifest and its chunks alone; a point that does not
// exist is a failed Result.
func Point(ctx context.Context, rp *repo.Repo, id catalog.ID, o Options) Result {
	res, err := points(ctx, rp, id.Remote, &id, o)
	switch {
	case err != nil:
		return Result{ID: id, Deep: o.Deep, Err: err}
	case len(res) == 0:
		return Result{ID: id, Deep: o.Deep, Err: fmt.Errorf("restore point %s does not exist", id)}
	}
	return res[0]
}

func points(ctx context.Context, rp *repo.Repo, remoteName string, only *catalog.ID, o Options) ([]Result, error) {
	now := nowFunc(o)
	start := now()
	vo := repo.VerifyOptions{Deep: o.Deep}
	if only != nil {
		vo.Points = []repo.Point{{VM: only.VM, Time: only.Time}}
	}
	rep, err := rp.Verify(ctx, vo)
	if err != nil {
		return nil, err
	}
	bad := map[string][]repo.ChunkProblem{}
	for _, p := range rep.Problems {
		for _, u := range p.Uses {
			bad[u.Point.String()] = append(bad[u.Point.String()], p)
		}
	}
	var out []Result
	for _, d := range rep.Damaged {
		if id, ok := wanted(remoteName, d.Point, only); ok {
			out = append(out, Result{ID: id, Deep: o.Deep, Err: fmt.Errorf("%w: %s", ErrCorrupt, d.Detail), Duration: now().Sub(start)})
		}
	}
	for _, p := range rep.Points { // those the verify read: a point committed since was not checked
		id, ok := wanted(remoteName, p, only)
		if !ok {
			continue
		}
		res := Result{ID: id, Deep: o.Deep}
		err := pointResult(ctx, rp, p, bad[p.String()], &res)
		if errors.Is(err, remote.ErrNotFound) {
			continue // deleted since the verify read it
		}
		if err != nil {
			return nil, err
		}
		res.Duration = now().Sub(start)
		out = append(out, res)
	}
	slices.SortFunc(out, func(a, b Result) int {
		return cmp.Or(strings.Compare(a.ID.VM, b.ID.VM), a.ID.Time.Compare(b.ID.Time))
	})
	return out, ctx.Err()
}

// wanted is the backup id of point p on remote remoteName, and whether it is only's.
func wanted(remoteName string, p repo.Point, only *catalog.ID) (catalog.ID, bool) {
	id, err := catalog.NewRepoID(remoteName, p.VM, p.Time)
	return id, err == nil && (only == nil || id == *only)
}

// pointResult fills the result of point p, which the verify read and whose chunk
// problems are probs. A damaged manifest fails the point; the error is for what stopped
// the check (a read that failed, the point deleted meanwhile).
func pointResult(ctx context.Context, rp *repo.Repo, p repo.Point, probs []repo.ChunkProblem, res *Result) error {
	if len(probs) > 0 {
		res.Err = fmt.Errorf("%w: %s", ErrCorrupt, describeChunks(p, probs))
		return nil
	}
	err := pointDigest(ctx, rp, p, res)
	if errors.Is(err, repo.ErrCorrupt) {
		res.Err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		return nil
	}
	return err
}

// describeChunks says which chunks point p lacks, where p uses them and which
// other points use them too.
func describeChunks(p repo.Point, probs []repo.ChunkProblem) string {
	var b strings.Builder
	for i, pr := range probs {
		if i > 0 {
			b.WriteString("; ")
		}
		what := "missing"
		if !pr.Missing {
			what = "damaged (" + pr.Detail + ")"
		}
		var here, others []string
		for _, u := range pr.Uses {
			if u.Point == p {
				here = append(here, fmt.Sprintf("disk %q offset %d", u.Disk, u.Offset))
			} else if !slices.Contains(others, u.Point.String()) {
				others = append(others, u.Point.String())
			}
		}
		fmt.Fprintf(&b, "chunk %s %s at %s", pr.ID, what, strings.Join(here, ", "))
		if len(others) > 0 {
			fmt.Fprintf(&b, ", also used by restore point(s) %s", strings.Join(others, ", "))
		}
	}
	return b.String()
}

func nowFunc(o Options) func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}

// pointDigest fills a sound point's SHA256 (of its stored manifest) and
// Bytes (its disk images' size).
func pointDigest(ctx context.Context, rp *repo.Repo, p repo.Point, res *Result) error {
	m, err := rp.Manifest(ctx, p)
	if err != nil {
		return err
	}
	res.Disks = len(m.Disks)
	for _, d := range m.Disks {
		res.Bytes += d.Size
	}
	rc, err := rp.Remote().Open(ctx, repo.Root+"/vms/"+p.String()+".json")
	if err != nil {
		return fmt.Errorf("restore point %s: digest of its manifest: %w", p, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("restore point %s: digest of its manifest: %w", p, err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// Repos opens a remote's incremental repository; *fn.Repos is one.
type Repos interface {
	Open(ctx context.Context, name string) (*repo.Repo, error)
}

// RemotePoints verifies the restore points of remote name's repository
// (Points); a remote without repository, or repos nil, has none.
func RemotePoints(ctx context.Context, repos Repos, name string, o Options) ([]Result, error) {
	if repos == nil {
		return nil, nil
	}
	rp, err := repos.Open(ctx, name)
	if errors.Is(err, fn.ErrNoRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Points(ctx, rp, name, o)
}

// RepoPoint verifies the repository restore point id (Point), opening its
// remote's repository through repos.
func RepoPoint(ctx context.Context, repos Repos, id catalog.ID, o Options) Result {
	if repos == nil {
		return Result{ID: id, Deep: o.Deep, Err: fmt.Errorf("restore point %s: no repositories here", id)}
	}
	rp, err := repos.Open(ctx, id.Remote)
	if err != nil {
		return Result{ID: id, Deep: o.Deep, Err: fmt.Errorf("restore point %s: %w", id, err)}
	}
	return Point(ctx, rp, id, o)
}
