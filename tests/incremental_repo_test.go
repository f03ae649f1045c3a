package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
)

// retentionAndGC ages every chunk past the GC's grace period, writes one
// more block and runs the job a third time: the schedule's retention 2
// deletes the oldest point, and the GC after that prune removes exactly the
// chunks that only the deleted point used: the chunk files left are exactly
// those the repository's manifests (of every VM) name.
func (e *incrEnv) retentionAndGC(t *testing.T, rem remote.Remote, root string, points []repo.Point) {
	t.Helper()
	age(t, root, time.Now().Add(-2*time.Hour))
	before := chunkKeySet(t, rem)
	onlyFirst := usedChunks(t, rem, points[0])
	for k := range usedChunks(t, rem, points[1]) {
		delete(onlyFirst, k)
	}
	if len(onlyFirst) == 0 {
		t.Fatal("no chunk is used by the first point alone: the GC check proves nothing")
	}
	guestWrite(t, e.p.url, e.disk, 2<<20, 64<<10)
	e.run(t, 3)
	var kept []repo.Point
	testsupport.Eventually(t, time.Minute, "retention to delete the oldest point and GC to collect", func() bool {
		infos, err := e.repo(t, rem).List(e.ctx, e.vm.UUID)
		if err != nil || len(infos) != 2 {
			return false
		}
		kept = []repo.Point{infos[0].Point, infos[1].Point}
		all, err := e.repo(t, rem).List(e.ctx, "")
		rsMust(t, err)
		var every []repo.Point
		for _, in := range all {
			every = append(every, in.Point)
		}
		return maps.Equal(chunkKeySet(t, rem), usedChunks(t, rem, every...))
	})
	if kept[0] != points[1] {
		t.Errorf("retention kept %v, want the second point %v and the third", kept, points[1])
	}
	var swept []string
	for k := range before {
		if !chunkKeySet(t, rem)[k] {
			swept = append(swept, k)
		}
	}
	if want := slices.Sorted(maps.Keys(onlyFirst)); !slices.Equal(slices.Sorted(slices.Values(swept)), want) {
		t.Errorf("GC swept %d chunks %v, want the %d the first point alone used %v", len(swept), swept, len(want), want)
	}
}

// chunkKeySet is the set of the repository's chunk objects on rem.
func chunkKeySet(t *testing.T, rem remote.Remote) map[string]bool {
	t.Helper()
	infos, err := rem.List(t.Context(), "xbr-repo/chunks/")
	rsMust(t, err)
	out := map[string]bool{}
	for _, in := range infos {
		out[in.Key] = true
	}
	return out
}

// usedChunks is the set of chunk objects the manifests of points name, read
// from the plain repository's manifest files themselves.
func usedChunks(t *testing.T, rem remote.Remote, points ...repo.Point) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range points {
		rc, err := rem.Open(t.Context(), "xbr-repo/vms/"+p.String()+".json")
		rsMust(t, err)
		var m struct {
			ChunkIDs [][]string `json:"chunk_ids"`
		}
		err = json.NewDecoder(rc).Decode(&m)
		rc.Close()
		rsMust(t, err)
		for _, disk := range m.ChunkIDs {
			for _, id := range disk {
				if id != "zero" {
					out["xbr-repo/chunks/"+id[:2]+"/"+id] = true
				}
			}
		}
	}
	return out
}

// writtenBytes reads 64 KiB of the VM's disk at off (where a guest wrote
// random bytes) through /export_raw_vdi: the pattern to look for.
func writtenBytes(t *testing.T, e *incrEnv, off int64) []byte {
	t.Helper()
	ref, err := e.c.VDIByUUID(e.ctx, e.disk)
	rsMust(t, err)
	tr, err := e.c.ExportRawVDI(e.ctx, ref)
	rsMust(t, err)
	defer tr.Close()
	_, err = io.CopyN(io.Discard, tr, off)
	rsMust(t, err)
	b := make([]byte, 64<<10)
	_, err = io.ReadFull(tr, b)
	rsMust(t, err)
	return b
}

// remoteHolds reports whether any object on rem contains one of four
// 64-byte windows of pattern.
func remoteHolds(t *testing.T, rem remote.Remote, pattern []byte) bool {
	t.Helper()
	infos, err := rem.List(t.Context(), "")
	rsMust(t, err)
	for _, in := range infos {
		rc, err := rem.Open(t.Context(), in.Key)
		rsMust(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		rsMust(t, err)
		for _, off := range []int{0, 4099, 32 << 10, len(pattern) - 64} {
			if bytes.Contains(b, pattern[off:off+64]) {
				return true
			}
		}
	}
	return false
}
