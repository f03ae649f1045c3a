package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrDamagedPoolMeta is a pool metadata backup whose dump is not the one
// its metadata.json describes, or not a whole dump.
var ErrDamagedPoolMeta = errors.New("damaged pool metadata backup")

// dumpEnd closes every pool database dump (XAPI's Db_xml writes one root).
const dumpEnd = "</database>"

// CheckPoolMeta reads the metadata.json and the whole dump of backup id,
// before the dump is sent anywhere: the dump must end its <database>
// root, and where metadata.json records the dump's size and SHA-256 (xbr
// wrote it; XO records neither) they must match. It returns the dump's
// size; a dump that fails is ErrDamagedPoolMeta.
func CheckPoolMeta(ctx context.Context, r Opener, id PoolMetaID) (int64, error) {
	m, err := readPoolMetadata(ctx, r, id)
	if err != nil {
		return 0, fmt.Errorf("backup %s: %s: %w", id, PoolMetaMarker, err)
	}
	if err := samePool(id, m); err != nil {
		return 0, err
	}
	rc, err := r.Open(ctx, id.Key(PoolMetaData))
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", id, err)
	}
	defer rc.Close()
	sum := sha256.New()
	tail := &tailWriter{max: 4096}
	n, err := io.Copy(io.MultiWriter(sum, tail), rc)
	if err != nil {
		return 0, fmt.Errorf("backup %s: read the dump: %w", id, err)
	}
	if !bytes.HasSuffix(bytes.TrimSpace(tail.b), []byte(dumpEnd)) {
		return 0, fmt.Errorf("backup %s: %w: the dump (%d bytes) does not end with %s: it was cut short", id, ErrDamagedPoolMeta, n, dumpEnd)
	}
	if x := m.XBR; x != nil && x.SHA256 != "" {
		if got := hex.EncodeToString(sum.Sum(nil)); n != x.Size || got != x.SHA256 {
			return 0, fmt.Errorf("backup %s: %w: the dump is %d bytes of SHA-256 %s, its %s records %d bytes of SHA-256 %s",
				id, ErrDamagedPoolMeta, n, got, PoolMetaMarker, x.Size, x.SHA256)
		}
	}
	return n, nil
}

// tailWriter keeps the last bytes written to it, at most about 2*max.
type tailWriter struct {
	b   []byte
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > 2*w.max {
		w.b = append(w.b[:0], w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

// samePool refuses a metadata.json that describes another pool than the
// one its folder names (a folder moved or made up).
func samePool(id PoolMetaID, m PoolMetadata) error {
	var rec struct {
		UUID string `json:"uuid"`
	}
	_ = json.Unmarshal(m.Pool, &rec) // XO's record; xbr's own field below
	for _, got := range []string{rec.UUID, xbrPoolUUID(m)} {
		if got != "" && got != id.PoolUUID {
			return fmt.Errorf("backup %s: %w: its %s describes pool %s, its folder pool %s", id, ErrDamagedPoolMeta,
				PoolMetaMarker, got, id.PoolUUID)
		}
	}
	return nil
}

func xbrPoolUUID(m PoolMetadata) string {
	if m.XBR == nil {
		return ""
	}
	return m.XBR.PoolUUID
}
