package repo

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// TestSealInPlace: an encrypted chunk is compressed after its nonce and
// sealed where it lies. Whatever room the buffer has (none, the compressed
// bytes without the tag, one byte short of the tag, exactly, the pool's
// size), the sealed chunk has the right length, a fresh non-zero nonce, and
// opens to the data.
func TestSealInPlace(t *testing.T) {
	const cs = 1 << 20
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c, err := newCodec(cs, 2, nil, key)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, cs)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	text := bytes.Repeat([]byte("abcdefgh"), cs/8)
	ns, tag := c.aead.NonceSize(), c.aead.Overhead()
	nonces := map[string]bool{}
	for _, data := range [][]byte{random, text, random[:100], random[:200<<10], {}, text[:5]} {
		id := c.id(data)
		z := len(c.enc.EncodeAll(data, nil))
		for _, room := range []int{ns, ns + z, ns + z + tag - 1, ns + z + tag, cs + cs>>7 + 1024} {
			buf := bytes.Repeat([]byte{0xaa}, room)[:0]
			sealed, err := c.seal(buf, id, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != ns+z+tag {
				t.Fatalf("%d bytes into room for %d: sealed %d bytes, want %d", len(data), room, len(sealed), ns+z+tag)
			}
			nonce := string(sealed[:ns])
			if nonce == string(make([]byte, ns)) || nonces[nonce] {
				t.Fatalf("%d bytes into room for %d: nonce zero or used before", len(data), room)
			}
			nonces[nonce] = true
			got, err := c.open(nil, id, bytes.Clone(sealed))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%d bytes into room for %d: open: %v (equal %v)", len(data), room, err, bytes.Equal(got, data))
			}
		}
	}
}
