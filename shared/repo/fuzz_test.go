package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
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
