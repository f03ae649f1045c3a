package repo

import (
	"math/rand/v2"
	"testing"
)

// TestRefSpoolKeepsEveryReference: manifests of three VMs, each point a mutation of the
// VM's previous one (ids changed, chunks turned zero and back, disks added, dropped and
// grown), are spooled as a mark does, each compared with the previous manifest of the same
// VM. Every id any manifest names must come out of the spool (a missing one is a chunk GC
// would delete while a point uses it), and the spool must hold fewer ids than the manifests
// name (the comparison leaves the unchanged ones out).
func TestRefSpoolKeepsEveryReference(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 7))
		spool := newRefSpool(t.TempDir())
		want := map[ChunkID]bool{}
		named := 0
		var prev *refTrail
		next := func() ChunkID {
			var id ChunkID
			for i := range id {
				id[i] = byte(rnd.UintN(256))
			}
			return id
		}
		for vm := 0; vm < 3; vm++ {
			spool.drop(prev) // another VM: nothing to compare with
			prev = nil
			var disks [][]ChunkID // zeroID: a zero chunk
			for point := 0; point < 6; point++ {
				// mutate the previous point's disks
				if point == 0 || rnd.UintN(4) == 0 {
					disks = append(disks, make([]ChunkID, 1+rnd.IntN(200)))
					for k := range disks[len(disks)-1] {
						disks[len(disks)-1][k] = next()
					}
				}
				if len(disks) > 1 && rnd.UintN(5) == 0 {
					i := rnd.IntN(len(disks))
					disks = append(disks[:i:i], disks[i+1:]...)
				}
				for d := range disks {
					disks[d] = append([]ChunkID(nil), disks[d]...)
					for k := range disks[d] {
						switch rnd.UintN(10) {
						case 0:
							disks[d][k] = next()
						case 1:
							disks[d][k] = zeroID
						}
					}
					if rnd.UintN(6) == 0 {
						disks[d] = append(disks[d], next(), next())
					}
				}
				run, err := spool.newRun(prev)
				if err != nil {
					t.Fatal(err)
				}
				for d, ids := range disks {
					for k, id := range ids {
						if id == zeroID {
							continue
						}
						want[id] = true
						named++
						if err := run.add(d, int64(k), id); err != nil {
							t.Fatal(err)
						}
					}
				}
				spool.drop(prev)
				prev = run.cur
			}
		}
		spool.drop(prev)
		got := map[ChunkID]bool{}
		var spooled int64
		var ids []ChunkID
		for b := 0; b < 256; b++ {
			var err error
			if ids, err = spool.shard(byte(b), ids); err != nil {
				t.Fatal(err)
			}
			spooled += spool.n[b]
			for i, id := range ids {
				if id[0] != byte(b) || i > 0 && compareIDs(ids[i-1], id) >= 0 {
					t.Fatalf("seed %d: shard %02x: ids not sorted, distinct and of the shard", seed, b)
				}
				got[id] = true
			}
		}
		for id := range want {
			if !got[id] {
				t.Fatalf("seed %d: id %x named by a manifest is not in the spool", seed, id[:4])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d ids out of the spool, %d named", seed, len(got), len(want))
		}
		if spooled >= int64(named) {
			t.Fatalf("seed %d: the spool holds %d ids for %d references: nothing left out", seed, spooled, named)
		}
		if err := spool.close(); err != nil {
			t.Fatal(err)
		}
	}
}
