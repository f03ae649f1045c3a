package xva

import (
	"bytes"
	"fmt"
	"strconv"
)

const (
	blockSize = 512
	nameLen   = 100
)

// V7 header field offsets, as ocaml-tar lays them out.
const (
	offMode  = 100
	offUID   = 108
	offGID   = 116
	offSize  = 124
	offMtime = 136
	offSum   = 148
	offType  = 156
	offMagic = 257
	offPfx   = 345
)

// appendHeader appends the V7 tar header XAPI writes (ocaml-tar at its
// default V7 level, Tar.Header.make): no ustar magic, type '\0', mode 0400,
// uid/gid 0, octal fields zero-padded and NUL-terminated, chksum "%07o\0".
func appendHeader(b []byte, name string, size, mtime int64) []byte {
	start := len(b)
	b = append(b, make([]byte, blockSize)...)
	h := b[start:]
	copy(h, name)
	putOctal(h[offMode:offMode+8], 0o400)
	putOctal(h[offUID:offUID+8], 0)
	putOctal(h[offGID:offGID+8], 0)
	putOctal(h[offSize:offSize+12], size)
	putOctal(h[offMtime:offMtime+12], mtime)
	putOctal(h[offSum:offSum+8], headerSum(h))
	return b
}

// putOctal writes v as len(field)-1 zero-padded octal digits and a NUL.
func putOctal(field []byte, v int64) {
	s := strconv.FormatInt(v, 8)
	n := len(field) - 1
	for i := range n {
		field[i] = '0'
	}
	copy(field[n-len(s):n], s)
	field[n] = 0
}

// headerSum is the tar checksum: the unsigned byte sum of the header with
// the chksum field counted as eight spaces.
func headerSum(h []byte) int64 {
	var sum int64
	for i, c := range h[:blockSize] {
		if i >= offSum && i < offSum+8 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum
}

// signedSum is the historical variant some tars wrote (bytes as int8).
func signedSum(h []byte) int64 {
	var sum int64
	for i, c := range h[:blockSize] {
		if i >= offSum && i < offSum+8 {
			c = ' '
		}
		sum += int64(int8(c))
	}
	return sum
}

// entry is a parsed tar header: the fields an XVA reader needs.
type entry struct {
	name string
	size int64
}

// parseHeader decodes a non-zero 512-byte header block. It accepts the
// regular-file forms every XVA writer uses: V7 ('\0') and ustar ('0'), with
// the ustar name prefix joined as ocaml-tar does.
func parseHeader(h []byte) (entry, error) {
	name := cString(h[:nameLen])
	if bytes.HasPrefix(h[offMagic:], []byte("ustar")) {
		if pfx := cString(h[offPfx : offPfx+155]); pfx != "" {
			name = pfx + "/" + name
		}
	}
	sum, err := parseOctal(h[offSum : offSum+8])
	if err != nil {
		return entry{}, formatErr("entry %q: tar header chksum: %v", name, err)
	}
	if sum != headerSum(h) && sum != signedSum(h) {
		return entry{}, formatErr("entry %q: tar header chksum %o, computed %o", name, sum, headerSum(h))
	}
	size, err := parseOctal(h[offSize : offSize+12])
	if err != nil {
		return entry{}, formatErr("entry %q: tar header size: %v", name, err)
	}
	if t := h[offType]; t != 0 && t != '0' {
		return entry{}, formatErr("entry %q: tar type %q is not a regular file", name, t)
	}
	return entry{name: name, size: size}, nil
}

// cString returns b up to its first NUL.
func cString(b []byte) string { return string(cStringBytes(b)) }

// parseOctal reads a numeric field: octal digits, surrounded by optional
// spaces and ended by NUL or space, as ocaml-tar's trim_numerical accepts.
func parseOctal(field []byte) (int64, error) {
	s := string(bytes.Trim(cStringBytes(field), " "))
	if s == "" {
		return 0, nil
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' || v > (1<<60) {
			return 0, fmt.Errorf("bad octal %q", s)
		}
		v = v*8 + int64(s[i]-'0')
	}
	return v, nil
}

func cStringBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// padding returns how many NULs round size up to a whole block.
func padding(size int64) int64 {
	return (blockSize - size%blockSize) % blockSize
}
