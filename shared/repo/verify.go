package repo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"xbr/shared/remote"
)

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Deep reads every referenced chunk and checks that its content hashes to its id.
	Deep bool
	// Points, when not empty, limits the check to these restore points: their manifests
	// and the chunks they use; no other manifest is read. A point that does not exist is
	// left out of the report.
	Points []Point
}

// ChunkUse is one place a chunk is used: a restore point, a disk and an offset in it.
type ChunkUse struct {
	Point  Point
	Disk   string
	Offset int64
}

// ChunkProblem is a referenced chunk that is missing or damaged, with every use of it.
type ChunkProblem struct {
	ID      ChunkID
	Missing bool   // false: damaged (Deep)
	Detail  string // why it is damaged
	Uses    []ChunkUse
}

// ManifestProblem is a restore point whose manifest is damaged (ErrCorrupt): which chunks
// it uses is unknown, so it cannot be restored.
type ManifestProblem struct {
	Point  Point
	Detail string // why it is damaged
}

// VerifyReport says what Verify found.
type VerifyReport struct {
	Manifests  int
	Points     []Point // the restore points whose manifests were read, by VM, oldest first
	Damaged    []ManifestProblem
	Referenced int
	Checked    int // chunks whose content was checked (Deep)
	Problems   []ChunkProblem
}

// Err is nil when nothing is wrong; otherwise it names every damaged manifest, every bad
// chunk and the restore points that use it.
func (r VerifyReport) Err() error {
	if len(r.Problems) == 0 && len(r.Damaged) == 0 {
		return nil
	}
	var b strings.Builder
	if len(r.Damaged) > 0 {
		fmt.Fprintf(&b, "%d manifest(s) damaged:", len(r.Damaged))
		for _, d := range r.Damaged {
			fmt.Fprintf(&b, "\n  %s", d.Detail)
		}
		if len(r.Problems) == 0 {
			return errors.New(b.String())
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d referenced chunk(s) missing or damaged:", len(r.Problems))
	for _, p := range r.Problems {
		what := "missing"
		if !p.Missing {
			what = "damaged (" + p.Detail + ")"
		}
		fmt.Fprintf(&b, "\n  chunk %s %s, used by", p.ID, what)
		for _, u := range p.Uses {
			fmt.Fprintf(&b, " %s disk %q offset %d;", u.Point, u.Disk, u.Offset)
		}
	}
	return errors.New(b.String())
}

// Verify checks that every chunk a restore point uses exists and, with Deep, that it is
// intact. The error is for what stopped the check; what it found is in the report.
func (rp *Repo) Verify(ctx context.Context, o VerifyOptions) (VerifyReport, error) {
	var rep VerifyReport
	spool := newRefSpool(rp.opts.tempDir)
	defer spool.close()
	if err := rp.verifyMark(ctx, o.Points, spool, &rep); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	bad := map[ChunkID]*ChunkProblem{}
	var want []ChunkID
	for b := 0; b < 256; b++ {
		var err error
		if want, err = spool.shard(byte(b), want); err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		rep.Referenced += len(want)
		if err := rp.verifyShard(ctx, byte(b), want, o.Deep, bad, &rep); err != nil {
			return rep, err
		}
	}
	if len(bad) == 0 {
		return rep, nil
	}
	if err := rp.findUses(ctx, rep.Points, bad); err != nil {
		return rep, err
	}
	for _, p := range bad {
		rep.Problems = append(rep.Problems, *p)
	}
	sort.Slice(rep.Problems, func(i, j int) bool { return compareIDs(rep.Problems[i].ID, rep.Problems[j].ID) < 0 })
	return rep, nil
}

// verifyMark spools the chunk ids of the manifests of points (every point when empty) and
// records in rep the points whose manifests it read: those alone were checked. A
// manifest deleted meanwhile is skipped, a damaged one recorded (unlike GC's mark, a verify
// can go on without its chunks: it reports them unknown), and one that cannot be read
// stops the mark.
func (rp *Repo) verifyMark(ctx context.Context, points []Point, spool *refSpool, rep *VerifyReport) error {
	if len(points) == 0 {
		infos, err := rp.r.List(ctx, vmsPrefix)
		if err != nil {
			return fmt.Errorf("repository on remote %s: list manifests: %w", rp.r.Name(), err)
		}
		for _, in := range infos {
			if p, ok := parseManifestKey(in.Key); ok {
				points = append(points, p)
			}
		}
	}
	m := &refMarker{spool: spool, digests: true}
	defer m.skip()
	for _, p := range points {
		err := m.point(ctx, rp, p)
		switch {
		case err == nil:
			rep.Points = append(rep.Points, p)
		case errors.Is(err, remote.ErrNotFound):
		case errors.Is(err, ErrCorrupt):
			rep.Damaged = append(rep.Damaged, ManifestProblem{Point: p, Detail: "manifest of " + err.Error()})
		default:
			return err
		}
	}
	rep.Manifests = len(rep.Points)
	return nil
}

// verifyShard checks want, the referenced ids starting with byte b, against the stored
// chunks.
func (rp *Repo) verifyShard(ctx context.Context, b byte, want []ChunkID, deep bool, bad map[ChunkID]*ChunkProblem, rep *VerifyReport) error {
	if len(want) == 0 {
		return nil
	}
	infos, err := rp.r.List(ctx, chunkShard(int(b)))
	if err != nil {
		return fmt.Errorf("verify: list %s: %w", chunkShard(int(b)), err)
	}
	stored := make(map[ChunkID]bool, len(infos))
	for _, in := range infos {
		if id, ok := parseChunkKey(in.Key); ok {
			stored[id] = true
		}
	}
	var present []ChunkID
	for _, id := range want {
		if stored[id] {
			present = append(present, id)
		} else {
			bad[id] = &ChunkProblem{ID: id, Missing: true}
		}
	}
	if !deep {
		return nil
	}
	return rp.checkContent(ctx, present, bad, rep)
}

// checkContent reads ids, up to the repository's concurrency at once. A chunk that cannot
// be read (the remote fails, not the chunk) stops the check with that error: it says
// nothing of the chunk.
func (rp *Repo) checkContent(ctx context.Context, ids []ChunkID, bad map[ChunkID]*ChunkProblem, rep *VerifyReport) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, rp.opts.concurrency)
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := rp.getChunk(ctx, id, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				rep.Checked++
			case errors.Is(err, remote.ErrNotFound):
				rep.Checked++
				bad[id] = &ChunkProblem{ID: id, Missing: true}
			case errors.Is(err, ErrCorrupt):
				rep.Checked++
				bad[id] = &ChunkProblem{ID: id, Detail: err.Error()}
			default:
				cancel(fmt.Errorf("verify: chunk %s: %w", id, err))
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// findUses reads the manifests of points again and records where each bad chunk is used.
func (rp *Repo) findUses(ctx context.Context, points []Point, bad map[ChunkID]*ChunkProblem) error {
	for _, p := range points {
		m, err := rp.Manifest(ctx, p)
		switch {
		case errors.Is(err, remote.ErrNotFound):
			continue // deleted since the mark read it
		case err != nil: // a point whose uses are unknown must not look sound
			return fmt.Errorf("verify: %w", err)
		}
		disks := m.Disks
		err = rp.eachRef(ctx, p, func(disk int, k int64, id ChunkID) error {
			if prob, ok := bad[id]; ok && disk < len(disks) {
				prob.Uses = append(prob.Uses, ChunkUse{Point: p, Disk: disks[disk].Name, Offset: k * int64(disks[disk].ChunkSize)})
			}
			return nil
		})
		if err != nil && !errors.Is(err, remote.ErrNotFound) {
			return fmt.Errorf("verify: %w", err)
		}
	}
	return nil
}
