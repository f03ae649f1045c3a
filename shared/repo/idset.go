package repo

import (
	"bytes"
	"slices"
)

func compareIDs(a, b ChunkID) int { return bytes.Compare(a[:], b[:]) }

// hasID reports whether the sorted ids hold id.
func hasID(ids []ChunkID, id ChunkID) bool {
	_, ok := slices.BinarySearchFunc(ids, id, compareIDs)
	return ok
}
