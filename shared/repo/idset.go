package repo

import (
	"bytes"
	"slices"
	"sort"
)

// idSet is a compact set of chunk ids: a sorted, deduplicated slice plus a tail of recent
// additions, merged when the tail grows as large as the sorted part. It holds 32 bytes per
// distinct id (twice that at a merge), whatever the number of manifests naming each id.
type idSet struct {
	ids    []ChunkID
	sorted int
}

func compareIDs(a, b ChunkID) int { return bytes.Compare(a[:], b[:]) }

func (s *idSet) add(id ChunkID) {
	s.ids = append(s.ids, id)
	if len(s.ids)-s.sorted >= max(s.sorted, 1<<14) {
		s.compact()
	}
}

// compact sorts and deduplicates the set; has and each need it.
func (s *idSet) compact() {
	slices.SortFunc(s.ids, compareIDs)
	s.ids = slices.Compact(s.ids)
	s.ids = slices.Clip(s.ids)
	s.sorted = len(s.ids)
}

// has reports whether id is in the set (after compact).
func (s *idSet) has(id ChunkID) bool {
	_, ok := slices.BinarySearchFunc(s.ids[:s.sorted], id, compareIDs)
	return ok
}

// len is the number of distinct ids (after compact).
func (s *idSet) len() int { return s.sorted }

// shard returns the sorted ids whose first byte is b (after compact).
func (s *idSet) shard(b byte) []ChunkID {
	ids := s.ids[:s.sorted]
	lo := sort.Search(len(ids), func(i int) bool { return ids[i][0] >= b })
	hi := sort.Search(len(ids), func(i int) bool { return ids[i][0] > b })
	return ids[lo:hi]
}
