package xapisim

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// blockSize is the unit of generated content: each 1 MiB block is zeros,
// random bytes, log text or repeated database pages.
const blockSize = 1 << 20

// source is the content of a disk; snapshots share their parent's source.
type source interface {
	io.ReaderAt
}

// mix64 is splitmix64's finaliser: a fast, well-spread hash of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

type blockKind int

const (
	kindZero blockKind = iota
	kindRandom
	kindText
	kindPages
)

// patterns are the pools every generated disk of a pool cuts its blocks
// from: built once per Server so a thousand disks cost no memory.
type patterns struct {
	text []byte // log lines
}

func newPatterns(seed uint64) *patterns {
	return &patterns{text: logPool(seed, 256<<10)}
}

// genSource generates a disk's content from a seed, block by block, on demand.
type genSource struct {
	seed uint64
	pat  *patterns
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}

func newGenSource(seed uint64, pat *patterns) *genSource {
	return &genSource{seed: seed, pat: pat}
}

// kind picks a block's content: ~40% zeros, ~30% random, ~15% text, ~15%
// pages, in runs of 4 blocks; block 0 always holds data (a boot sector).
func (g *genSource) kind(block int64) blockKind {
	if block == 0 {
		return kindPages
	}
	r := mix64(g.seed^uint64(block>>2)*0x9e3779b97f4a7c15) % 100
	switch {
	case r < 40:
		return kindZero
	case r < 70:
		return kindRandom
	case r < 85:
		return kindText
	}
	return kindPages
}

// allocated is the number of bytes in non-zero blocks of a disk of size bytes.
func (g *genSource) allocated(size int64) int64 {
	var n int64
	for b := int64(0); b*blockSize < size; b++ {
		if g.kind(b) != kindZero {
			n += min(blockSize, size-b*blockSize)
		}
	}
	return n
}

// fill writes block number block into dst (len(dst) == blockSize).
func (g *genSource) fill(dst []byte, block int64) {
	key := mix64(g.seed ^ uint64(block+1)*0xd1b54a32d192ed03)
	switch g.kind(block) {
	case kindZero:
		clear(dst)
	case kindRandom:
		fillRandom(dst, key)
	case kindText:
		g.fillText(dst, key)
	case kindPages:
		fillPages(dst, block, key)
	}
}

// fillRandom writes wyrand output: unique per key, several GB/s.
func fillRandom(dst []byte, x uint64) {
	for i := 0; i+32 <= len(dst); i += 32 {
		x += 0xa0761d6478bd642f
		hi, lo := bits.Mul64(x, x^0xe7037ed1a0b428db)
		a := hi ^ lo
		hi, lo = bits.Mul64(a, 0x8ebc6af09c88c6e3)
		b := hi ^ lo
		binary.LittleEndian.PutUint64(dst[i:], a)
		binary.LittleEndian.PutUint64(dst[i+8:], b)
		binary.LittleEndian.PutUint64(dst[i+16:], a^bits.RotateLeft64(b, 23))
		binary.LittleEndian.PutUint64(dst[i+24:], b^bits.RotateLeft64(a, 41)^x)
	}
}

// fillText cuts dst from the log pool at key-chosen offsets.
func (g *genSource) fillText(dst []byte, key uint64) {
	text := g.pat.text
	off := int(key % uint64(len(text)))
	for n := 0; n < len(dst); {
		c := copy(dst[n:], text[off:])
		n += c
		off = int(mix64(key+uint64(n)) % uint64(len(text)/2))
	}
}

// fillPages writes 4 KiB "database pages": one generated page, repeated with
// its page number patched in, as a database file looks.
func fillPages(dst []byte, block int64, key uint64) {
	const page = 4096
	p := dst[:page]
	clear(p)
	copy(p, "XBRPAGE1")
	fillRandom(p[64:1024], key)
	row := p[1024:]
	for i, n := 0, 0; n+64 < len(row); i++ {
		n += copy(row[n:], fmt.Sprintf("|%08d|customer-%05d|%12d|active;", i, (key>>8+uint64(i))%99991, (key+uint64(i)*7919)%1e9))
	}
	for i := 0; i < len(dst)/page; i++ {
		q := dst[i*page : (i+1)*page]
		if i > 0 {
			copy(q, p)
		}
		binary.LittleEndian.PutUint64(q[8:], uint64(block)*uint64(len(dst)/page)+uint64(i))
	}
}

// ReadAt reads generated content; every read is within the disk's size.
func (g *genSource) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		block, in := (off+int64(n))/blockSize, int((off+int64(n))%blockSize)
		if in == 0 && len(p)-n >= blockSize {
			g.fill(p[n:n+blockSize], block)
			n += blockSize
			continue
		}
		bp := blockPool.Get().(*[]byte)
		g.fill(*bp, block)
		n += copy(p[n:], (*bp)[in:])
		blockPool.Put(bp)
	}
	return n, nil
}

var logTemplates = []string{
	"%s xapisim kernel: [%6d.%06d] nvme0n1: I/O %d QID %d timeout, completion polled\n",
	"%s xapisim sshd[%d]: Accepted publickey for deploy from 10.0.%d.%d port 5%04d ssh2\n",
	"%s xapisim postgres[%d]: LOG:  checkpoint complete: wrote %d buffers (%d.%d%%)\n",
	"%s xapisim nginx[%d]: 10.1.%d.%d - - \"GET /api/v1/orders/%d HTTP/1.1\" 200 %d\n",
	"%s xapisim cron[%d]: (root) CMD (run-parts /etc/cron.hourly) pid=%d rc=%d t=%d\n",
}

// logPool builds size bytes of syslog-like lines from seed.
func logPool(seed uint64, size int) []byte {
	out := make([]byte, 0, size+256)
	x := seed
	for len(out) < size {
		x = mix64(x + 0x9e3779b97f4a7c15)
		ts := fmt.Sprintf("2026-%02d-%02dT%02d:%02d:%02d.%03dZ", x%12+1, x>>4%28+1, x>>9%24, x>>14%60, x>>20%60, x>>26%1000)
		t := logTemplates[x>>32%uint64(len(logTemplates))]
		out = fmt.Appendf(out, t, ts, x>>36%99999, x>>40%256, x>>44%256, x>>48%9999, x>>52%2000+100)
	}
	return out[:size]
}
