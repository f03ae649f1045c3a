package catalog

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// maxChecksumFile bounds what ReadChecksum reads of a .xva.checksum (at most "$6$$" and
// 128 hex digits).
const maxChecksumFile = 256

// Checksum is the content of a <ts>.xva.checksum: crypt(3)-style "$<id>$$<hex digest>" of
// the stored .xva, as @xen-orchestra/fs checksum.js writes and checks it (id 1 = md5,
// 5 = sha256, 6 = sha512; no salt). XO writes md5; xbr writes sha256, the hash it computes
// anyway, which XO's reader accepts as well (it takes the algorithm from the id).
type Checksum struct {
	Algorithm string // "md5", "sha256" or "sha512"
	Sum       []byte
}

// checksumIDs maps an id of the file to its algorithm, with the digest's size.
var checksumIDs = map[string]struct {
	algorithm string
	size      int
}{"1": {"md5", md5.Size}, "5": {"sha256", sha256.Size}, "6": {"sha512", sha512.Size}}

// FormatChecksum returns the content of <ts>.xva.checksum for the lowercase hex SHA-256 of
// the stored .xva: "$5$$<hex>", 68 bytes without a newline.
func FormatChecksum(sha256hex string) string { return "$5$$" + sha256hex }

// ParseChecksum parses the content of a .xva.checksum file: "$1$$", "$5$$" or "$6$$"
// followed by the hex digest of that algorithm, optionally followed by a newline.
func ParseChecksum(s string) (Checksum, error) {
	s = strings.TrimRight(s, "\r\n")
	rest, ok := strings.CutPrefix(s, "$")
	id, hexSum, ok2 := strings.Cut(rest, "$$")
	alg, known := checksumIDs[id]
	if !ok || !ok2 || !known {
		return Checksum{}, fmt.Errorf("%w: checksum file %.80q: want \"$1$$\" (md5), \"$5$$\" (sha256) or \"$6$$\" (sha512) and the hex digest",
			ErrInvalidMetadata, s)
	}
	if len(hexSum) != 2*alg.size {
		return Checksum{}, fmt.Errorf("%w: checksum file %.80q: want %d hex digits of %s", ErrInvalidMetadata, s, 2*alg.size, alg.algorithm)
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil {
		return Checksum{}, fmt.Errorf("%w: checksum file %.80q: %w", ErrInvalidMetadata, s, err)
	}
	return Checksum{Algorithm: alg.algorithm, Sum: sum}, nil
}

// NewHash returns a hash of the checksum's algorithm.
func (c Checksum) NewHash() hash.Hash {
	switch c.Algorithm {
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return md5.New()
}

// ReadChecksum reads and parses id's .xva.checksum on r. A missing file is the remote's
// not-found error (remote.ErrNotFound): the checksum is optional.
func ReadChecksum(ctx context.Context, r Opener, id ID) (Checksum, error) {
	rc, err := r.Open(ctx, id.ChecksumKey())
	if err != nil {
		return Checksum{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxChecksumFile+1))
	if err != nil {
		return Checksum{}, fmt.Errorf("read %s: %w", id.ChecksumKey(), err)
	}
	return ParseChecksum(string(data))
}
