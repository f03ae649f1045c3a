package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"xbr/shared/remote"
)

// manifestAD binds an encrypted manifest to its key: it cannot be moved to another VM or time.
func manifestAD(p Point) string { return "xbr-repo v1 manifest " + p.key() }

// PointInfo is a committed restore point as listed.
type PointInfo struct {
	Point
	// Size is the stored manifest's size in bytes.
	Size int64
}

// List returns the restore points of vm, oldest first; vm "" lists every VM's. Objects
// under vms/ that are not manifests are left out.
func (rp *Repo) List(ctx context.Context, vm string) ([]PointInfo, error) {
	prefix := vmsPrefix
	if vm != "" {
		if err := validVM(vm); err != nil {
			return nil, err
		}
		prefix += vm + "/"
	}
	infos, err := rp.r.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("repository on remote %s: list %s: %w", rp.r.Name(), prefix, err)
	}
	var out []PointInfo
	for _, in := range infos {
		if p, ok := parseManifestKey(in.Key); ok {
			out = append(out, PointInfo{Point: p, Size: in.Size})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].VM != out[j].VM {
			return out[i].VM < out[j].VM
		}
		return out[i].Time.Before(out[j].Time)
	})
	return out, nil
}

// Delete removes restore point p: its manifest only. The chunks it alone used stay until GC;
// Delete then marks the repository as owing one (GCDue), so that the GC at the end of the
// run that deleted it runs. Deleting a missing point is not an error. A marker that cannot
// be written fails nothing (the point is deleted): it is logged, and the next deletion or
// gc job collects what this one freed.
func (rp *Repo) Delete(ctx context.Context, p Point) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := rp.r.Delete(ctx, p.key()); err != nil {
		return fmt.Errorf("repository on remote %s: delete restore point %s: %w", rp.r.Name(), p, err)
	}
	if err := rp.markGCDue(ctx); err != nil {
		rp.opts.log.Warn("restore point deleted, but the repository could not be marked for GC; a later GC collects it",
			"remote", rp.r.Name(), "point", p.String(), "err", err)
	}
	return nil
}

// Manifest reads the header of restore point p's manifest (not its chunk ids).
func (rp *Repo) Manifest(ctx context.Context, p Point) (*Manifest, error) {
	mr, closer, err := rp.openManifest(ctx, p)
	if err != nil {
		return nil, err
	}
	closer.Close()
	return &mr.m, nil
}

// manifestReaders is how many manifests EachManifest reads at once: on S3 each is a
// request, and their latency dominates.
const manifestReaders = 8

// EachManifest reads the manifest header of every point as Manifest does, up to
// manifestReaders at once, and calls each with the point's index and Manifest's result.
// The calls run concurrently; EachManifest returns once all have.
func (rp *Repo) EachManifest(ctx context.Context, points []PointInfo, each func(i int, m *Manifest, err error)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, manifestReaders)
	for i, pi := range points {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m, err := rp.Manifest(ctx, pi.Point)
			each(i, m, err)
		}()
	}
	wg.Wait()
}

// openManifest opens p's manifest positioned before its chunk ids.
func (rp *Repo) openManifest(ctx context.Context, p Point) (*manifestReader, io.Closer, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	rc, err := rp.r.Open(ctx, p.key())
	if err != nil {
		return nil, nil, fmt.Errorf("restore point %s: %w", p, err)
	}
	raw := &readErrs{r: rc}
	var src io.Reader = raw
	if rp.codec.aead != nil {
		if src, err = newOpenReader(raw, rp.codec.aead, manifestAD(p)); err != nil {
			if raw.err != nil { // the transfer failed, not the object
				err = fmt.Errorf("manifest: read: %w", raw.err)
			}
			rc.Close()
			return nil, nil, fmt.Errorf("restore point %s: %w", p, err)
		}
	}
	mr, err := readManifest(src, rp.keyed(), raw)
	if err == nil && !mr.m.Time.Equal(p.Time) || err == nil && mr.m.VM != p.VM {
		err = fmt.Errorf("%w: manifest names restore point %s", ErrCorrupt, mr.m.Point())
	}
	for i := 0; err == nil && i < len(mr.m.Disks); i++ {
		if cs := mr.m.Disks[i].ChunkSize; cs != rp.cfg.ChunkSize {
			err = fmt.Errorf("%w: disk %d: chunk size %d, the repository's is %d", ErrCorrupt, i, cs, rp.cfg.ChunkSize)
		}
	}
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("restore point %s: %w", p, err)
	}
	return mr, rc, nil
}

// commitManifest writes m's manifest, its chunk entries from ids, under m's point
// atomically. check runs just before the commit: the last chance to refuse.
func (rp *Repo) commitManifest(ctx context.Context, m *Manifest, ids func(int, func(entry) error) error, check func() error) error {
	p := m.Point()
	u, err := rp.r.Create(ctx, p.key(), -1)
	if err != nil {
		return err
	}
	defer u.Abort(ctx)
	var w io.Writer = u
	var sw *sealWriter
	if rp.codec.aead != nil {
		if sw, err = newSealWriter(u, rp.codec.aead, manifestAD(p)); err != nil {
			return err
		}
		w = sw
	}
	if err := writeManifest(w, m, rp.keyed(), ids); err != nil {
		return err
	}
	if sw != nil {
		if err := sw.Close(); err != nil {
			return err
		}
	}
	return rp.commitUnderLease(ctx, u, p.key(), check)
}

// commitUnderLease commits u, the upload of the manifest at key, only while check (the
// writer's lease) holds, and checks it again once the commit returned: a commit that
// stalled while the lease lapsed (the remote unreachable, its refreshes failing) may land
// after a GC took the lease for a crashed writer's and swept chunks the manifest names.
// Such a manifest is removed again, and the commit fails; so it is when the commit failed
// too, since it may have landed all the same.
func (rp *Repo) commitUnderLease(ctx context.Context, u remote.Upload, key string, check func() error) error {
	if err := check(); err != nil {
		return err
	}
	cerr := u.Commit(ctx)
	lerr := check()
	if lerr == nil {
		return cerr
	}
	const lapsed = "while the manifest was committed (a GC may have swept chunks it names)"
	if derr := rp.r.Delete(context.WithoutCancel(ctx), key); derr != nil {
		return fmt.Errorf("%w %s, and it could not be removed: %w", ErrLeaseLapsed, lapsed, errors.Join(lerr, cerr, derr))
	}
	return fmt.Errorf("%w %s; it was removed: %w", ErrLeaseLapsed, lapsed, errors.Join(lerr, cerr))
}

// ErrLeaseLapsed marks a commit during which the writer's lease lapsed: its manifest, if
// one is left, may name chunks a GC swept meanwhile, and must not be taken as committed.
var ErrLeaseLapsed = errors.New("lease lapsed")
