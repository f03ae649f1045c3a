package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// validManifest is a small well-formed manifest (two disks, a zero chunk); keyed, its
// entries carry their SHA-256 as an encrypted repository's do (here the plain one is not
// sealed: the parser is the same under the seal).
func validManifest(t testing.TB, keyed bool) []byte {
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, VM: "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f",
		Time: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), Records: json.RawMessage(`{"a":[1,2]}`),
		Disks: []Disk{
			{Name: "xvda", Size: 2*MinChunkSize + 5, ChunkSize: MinChunkSize, Chunks: 3, ZeroChunks: 1,
				ImageDigest: strings.Repeat("ef", 32), SHA256: strings.Repeat("ab", 32)},
			{Name: "xvdb", Size: 0, ChunkSize: MinChunkSize, Chunks: 0, ImageDigest: strings.Repeat("cd", 32)},
		}}
	var buf bytes.Buffer
	err := writeManifest(&buf, m, keyed, func(i int, emit func(entry) error) error {
		for _, e := range testEntries(keyed)[i] {
			if err := emit(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testEntries are validManifest's chunk entries.
func testEntries(keyed bool) [][]entry {
	a, b := entry{id: ChunkID{1}, sum: [32]byte{1}}, entry{id: ChunkID{2, 3}, sum: [32]byte{2, 3}}
	if keyed {
		a.sum, b.sum = [32]byte{9, 1}, [32]byte{9, 2}
	}
	return [][]entry{{a, {}, b}, nil}
}

// readAll parses a whole manifest, returning its header and every entry.
func readAll(data []byte, keyed bool) (*Manifest, [][]entry, error) {
	mr, err := readManifest(bytes.NewReader(data), keyed, nil)
	if err != nil {
		return nil, nil, err
	}
	var all [][]entry
	for {
		if _, err := mr.nextDisk(); err == io.EOF {
			return &mr.m, all, nil
		} else if err != nil {
			return nil, nil, err
		}
		var es []entry
		for {
			e, err := mr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			es = append(es, e)
		}
		all = append(all, es)
	}
}

func TestManifestRoundtrip(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		m, es, err := readAll(validManifest(t, keyed), keyed)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Disks) != 2 || m.Disks[0].ImageDigest != strings.Repeat("ef", 32) || m.Disks[1].SHA256 != "" ||
			!reflect.DeepEqual(es, testEntries(keyed)) {
			t.Fatalf("keyed %v: read back %+v %v, want %v", keyed, m, es, testEntries(keyed))
		}
		if _, _, err := readAll(validManifest(t, keyed), !keyed); !errors.Is(err, ErrCorrupt) {
			t.Errorf("keyed %v manifest read as keyed %v: %v, want ErrCorrupt", keyed, !keyed, err)
		}
		valid := string(validManifest(t, keyed))
		for _, bad := range []string{
			strings.Replace(valid, `"zero"`, `"zero","zero"`, 1), // one id too many
			strings.Replace(valid, `,"zero"`, ``, 1),             // one short
			strings.Replace(valid, `"chunks":3`, `"chunks":4`, 1),
			strings.Replace(valid, `]]}`, `]]}{}`, 1),
			strings.Replace(valid, `"format"`, `"extra":1,"format"`, 1),
			strings.Replace(valid, `"version":2`, `"version":1`, 1), // replaced, never shipped
			strings.Replace(valid, `"image_digest":"`+strings.Repeat("ef", 32)+`",`, ``, 1),
			strings.Replace(valid, `"sha256":"`+strings.Repeat("ab", 32), `"sha256":"`+strings.Repeat("AB", 32), 1),
		} {
			if bad == valid {
				t.Fatalf("keyed %v: a bad case does not change the manifest", keyed)
			}
			if _, _, err := readAll([]byte(bad), keyed); !errors.Is(err, ErrCorrupt) {
				t.Errorf("manifest %.120q… parsed: %v, want ErrCorrupt", bad, err)
			}
		}
	}
}

// FuzzManifest: any input is refused with ErrCorrupt or parses into a header that validates
// and exactly the entries its disks announce, plain or keyed.
func FuzzManifest(f *testing.F) {
	f.Add(validManifest(f, false), false)
	f.Add(validManifest(f, true), true)
	f.Add([]byte(`{"format":"xbr-repo-manifest","chunk_ids":[]}`), false)
	f.Add([]byte(`{}`), true)
	f.Fuzz(func(t *testing.T, data []byte, keyed bool) {
		m, es, err := readAll(data, keyed)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed an invalid header: %v", err)
		}
		for i, d := range m.Disks {
			if int64(len(es[i])) != d.Chunks {
				t.Fatalf("disk %d: %d entries, header says %d", i, len(es[i]), d.Chunks)
			}
			for _, e := range es[i] {
				if !keyed && e.sum != e.id {
					t.Fatalf("disk %d: plain entry %x has sum %x", i, e.id, e.sum)
				}
			}
		}
	})
}

// FuzzConfig: config.json either parses into a Config that validates and survives a
// round trip, or is refused.
func FuzzConfig(f *testing.F) {
	plain, _ := newConfig(0, Key{}, time.Unix(0, 0))
	k, _ := GenerateKey()
	enc, _ := newConfig(4<<20, k, time.Unix(0, 0))
	for _, c := range []Config{plain, enc} {
		b, _ := json.Marshal(c)
		f.Add(b)
	}
	f.Add([]byte(`{"format":"xbr-repo","version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed an invalid config: %v", err)
		}
		b, _ := json.Marshal(c)
		if _, err := ParseConfig(bytes.NewReader(b)); err != nil {
			t.Fatalf("config does not survive a round trip: %v", err)
		}
	})
}

// FuzzPoint: restore point names (from the CLI, events) parse only into valid points that
// print back the same.
func FuzzPoint(f *testing.F) {
	f.Add("0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f/20261206T020000Z")
	f.Add("../x/20261206T020000Z")
	f.Add("0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f/20261206T020000.5Z") // time.Parse takes a fraction the layout lacks
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePoint(s)
		if err != nil {
			return
		}
		if p.Validate() != nil || p.String() != s {
			t.Fatalf("ParsePoint(%q) = %v, prints %q", s, p, p.String())
		}
	})
}

// FuzzParseKey: a key file parses to a key that EncodeKey writes back, or to an error that
// never quotes the file (it may hold a key with a typo).
func FuzzParseKey(f *testing.F) {
	k, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeKey(k))
	f.Add([]byte("  " + strings.TrimSpace(string(EncodeKey(k))) + "\r\n"))
	f.Add([]byte(strings.Repeat("QUJD", 11) + "QUI=\n"))
	f.Add([]byte("not base64 at all!"))
	f.Fuzz(func(t *testing.T, text []byte) {
		k, err := ParseKey(text)
		if err != nil {
			if s := strings.TrimSpace(string(text)); len(s) >= 6 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error quotes the key file: %v", err)
			}
			return
		}
		again, err := ParseKey(EncodeKey(k))
		if err != nil || !bytes.Equal(again.b, k.b) || len(k.b) != KeySize {
			t.Fatalf("key %x does not survive EncodeKey: %x, %v", k.b, again.b, err)
		}
	})
}

// FuzzChunkKey: chunk ids and chunk keys (read from listings of the remote) parse only from
// the one form their printers give, and a refused id is quoted in the error.
func FuzzChunkKey(f *testing.F) {
	id := ChunkID{0xab, 0xcd}
	f.Add(id.String())
	f.Add(chunkKey(id))
	f.Add(strings.ToUpper(id.String()))
	f.Add(chunksPrefix + "ab/" + id.String())
	f.Add(chunksPrefix + "zz/zz" + id.String()[2:])
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseChunkID(s); err == nil {
			if id.String() != s {
				t.Fatalf("ParseChunkID(%q) prints %q", s, id.String())
			}
		} else if !strings.Contains(err.Error(), "chunk id "+strconv.Quote(clip(s))) {
			t.Fatalf("ParseChunkID(%q): %v does not quote the id", s, err)
		}
		if id, ok := parseChunkKey(s); ok && chunkKey(id) != s {
			t.Fatalf("parseChunkKey(%q) = %s, whose key is %q", s, id, chunkKey(id))
		}
	})
}

// FuzzManifestKey: a manifest key (read from a listing of the remote) names a point only
// when the point's key is that key.
func FuzzManifestKey(f *testing.F) {
	p := Point{VM: "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", Time: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)}
	f.Add(p.key())
	f.Add(strings.Replace(p.key(), "Z.json", ".9Z.json", 1))
	f.Add(vmsPrefix + "x/20261206T020000Z.json")
	f.Add(vmsPrefix + p.String())
	f.Fuzz(func(t *testing.T, key string) {
		p, ok := parseManifestKey(key)
		if !ok {
			return
		}
		if p.Validate() != nil || p.key() != key {
			t.Fatalf("parseManifestKey(%q) = %v, whose key is %q", key, p, p.key())
		}
	})
}
