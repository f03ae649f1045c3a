package catalog

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// maxChecksumFile bounds what ReadChecksum reads of a .xva.checksum ("$1$$" + 32 hex digits).
const maxChecksumFile = 256

// FormatChecksum returns the content of <ts>.xva.checksum for the lowercase hex MD5 of the
// stored .xva: "$1$$<hex>", 36 bytes without a newline, as Xen Orchestra writes it
// (crypt(3)-style "$<algorithm id>$<salt>$<digest>" with id 1 = md5 and no salt).
func FormatChecksum(md5hex string) string { return "$1$$" + md5hex }

// ParseChecksum parses the content of a .xva.checksum file: "$1$$" followed by 32 hex
// digits (an MD5), optionally followed by a newline. It returns the MD5.
func ParseChecksum(s string) ([]byte, error) {
	s = strings.TrimRight(s, "\r\n")
	hexSum, ok := strings.CutPrefix(s, "$1$$")
	if !ok || len(hexSum) != 2*md5.Size {
		return nil, fmt.Errorf("%w: checksum file %.80q: want \"$1$$\" and 32 hex digits", ErrInvalidMetadata, s)
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil {
		return nil, fmt.Errorf("%w: checksum file %.80q: %w", ErrInvalidMetadata, s, err)
	}
	return sum, nil
}

// ReadChecksum reads and parses id's .xva.checksum on r. A missing file is the remote's
// not-found error (remote.ErrNotFound): the checksum is optional.
func ReadChecksum(ctx context.Context, r Opener, id ID) ([]byte, error) {
	rc, err := r.Open(ctx, id.ChecksumKey())
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxChecksumFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id.ChecksumKey(), err)
	}
	return ParseChecksum(string(data))
}
