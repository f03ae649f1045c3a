package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync/atomic"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// backup is an opened backup: its metadata and a verifying stream of its
// .xva as stored (compressed or not: XAPI detects gzip and zstd by magic).
type backup struct {
	id     catalog.ID
	meta   catalog.Metadata
	size   int64  // bytes of the stored .xva
	verify string // how it is verified: "sha256", "md5 (XO checksum file)", "xva chunks (by XAPI)"
	body   *verifier
	ahead  *hashAhead // owns the remote's stream
}

func (b *backup) Close() { b.ahead.Close() }

// openBackup opens the .xva of id (whose metadata is meta) behind a verifier:
// the xbr object's SHA-256 when xbr wrote it; XO's MD5 checksum file when
// present; otherwise only the length, and XAPI verifies every chunk's hash.
// A remote that sends nothing of the .xva for stall fails the read with
// ErrReadStalled (0: no bound); so does a stat or a checksum-file read
// before it that takes that long (boundedRead).
func openBackup(ctx context.Context, r remote.Remote, id catalog.ID, meta catalog.Metadata, hold int, stall time.Duration, progress *atomic.Int64) (*backup, error) {
	size, err := boundedRead(ctx, stall, "the backup's size", func(ctx context.Context) (int64, error) {
		return dataSize(ctx, r, id, meta)
	})
	if err != nil {
		return nil, err
	}
	type verification struct {
		chk *check
		how string
	}
	ver, err := boundedRead(ctx, stall, "the backup's checksum file", func(ctx context.Context) (verification, error) {
		chk, how, err := checkFor(ctx, r, id, meta)
		return verification{chk, how}, err
	})
	if err != nil {
		return nil, err
	}
	chk, how := ver.chk, ver.how
	rctx, cancel := context.WithCancel(ctx) // a stalled read is cancelled
	rc, err := r.Open(rctx, id.DataKey())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open %s: %w", id.DataKey(), err)
	}
	var sum hash.Hash
	if chk != nil {
		sum = chk.sum
	}
	ahead := newHashAhead(rctx, cancel, rc, sum, stall) // reads and hashes ahead of the send
	v := newVerifier(ahead, chk, size, hold, progress)
	v.hashed = true
	return &backup{id: id, meta: meta, size: size, verify: how, ahead: ahead, body: v}, nil
}

// dataSize is the recorded size of the .xva; XO and xbr both record it, the
// remote's own size is the fallback for metadata that says 0.
func dataSize(ctx context.Context, r remote.Remote, id catalog.ID, meta catalog.Metadata) (int64, error) {
	if meta.Size > 0 {
		return meta.Size, nil
	}
	info, err := r.Stat(ctx, id.DataKey())
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", id.DataKey(), err)
	}
	return info.Size, nil
}

func checkFor(ctx context.Context, r remote.Remote, id catalog.ID, meta catalog.Metadata) (*check, string, error) {
	if meta.Xbr != nil {
		want, err := hex.DecodeString(meta.Xbr.SHA256)
		if err != nil {
			return nil, "", fmt.Errorf("%w: xbr.sha256: %w", catalog.ErrInvalidMetadata, err)
		}
		return &check{name: "sha256", sum: sha256.New(), want: want}, "sha256", nil
	}
	want, err := catalog.ReadChecksum(ctx, r, id)
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return nil, "xva chunk hashes (checked by XAPI)", nil
	case err != nil:
		return nil, "", err
	}
	return &check{name: want.Algorithm, sum: want.NewHash(), want: want.Sum}, want.Algorithm + " (XO checksum file)", nil
}
