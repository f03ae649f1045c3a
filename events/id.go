package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// DeriveID is a deterministic event id: the first 128 bits, in hex, of the
// SHA-256 of the length-prefixed parts (so ("ab","c") and ("a","bc")
// differ). Use it wherever a retry could publish the same event twice,
// e.g. DeriveID("schedule.due", job, schedule, fireTime.Format(time.RFC3339)).
func DeriveID(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
