package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// validManifest is a small well-formed manifest (two disks, a zero chunk).
func validManifest(t testing.TB) []byte {
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, VM: "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f",
		Time: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), Records: json.RawMessage(`{"a":[1,2]}`),
		Disks: []Disk{
			{Name: "xvda", Size: 2*MinChunkSize + 5, ChunkSize: MinChunkSize, Chunks: 3, ZeroChunks: 1, SHA256: strings.Repeat("ab", 32)},
			{Name: "xvdb", Size: 0, ChunkSize: MinChunkSize, Chunks: 0, SHA256: strings.Repeat("cd", 32)},
		}}
	var buf bytes.Buffer
	ids := [][]ChunkID{{{1}, zeroID, {2, 3}}, nil}
	err := writeManifest(&buf, m, func(i int, emit func(ChunkID) error) error {
		for _, id := range ids[i] {
			if err := emit(id); err != nil {
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

// readAll parses a whole manifest, returning its header and every id.
func readAll(data []byte) (*Manifest, [][]ChunkID, error) {
	mr, err := readManifest(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var all [][]ChunkID
	for {
		if _, err := mr.nextDisk(); err == io.EOF {
			return &mr.m, all, nil
		} else if err != nil {
			return nil, nil, err
		}
		var ids []ChunkID
		for {
			id, err := mr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			ids = append(ids, id)
		}
		all = append(all, ids)
	}
}

func TestManifestRoundtrip(t *testing.T) {
	m, ids, err := readAll(validManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Disks) != 2 || len(ids) != 2 || len(ids[0]) != 3 || ids[0][1] != zeroID || ids[0][2] != (ChunkID{2, 3}) || len(ids[1]) != 0 {
		t.Fatalf("read back %+v %v", m, ids)
	}
	for _, bad := range []string{
		strings.Replace(string(validManifest(t)), `"zero"`, `"zero","zero"`, 1), // one id too many
		strings.Replace(string(validManifest(t)), `,"zero"`, ``, 1),             // one short
		strings.Replace(string(validManifest(t)), `"chunks":3`, `"chunks":4`, 1),
		strings.Replace(string(validManifest(t)), `]]}`, `]]}{}`, 1),
		strings.Replace(string(validManifest(t)), `"format"`, `"extra":1,"format"`, 1),
	} {
		if _, _, err := readAll([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("manifest %.120q… parsed: %v, want ErrCorrupt", bad, err)
		}
	}
}

// FuzzManifest: any input is refused with ErrCorrupt or parses into a header that validates
// and exactly the ids its disks announce.
func FuzzManifest(f *testing.F) {
	f.Add(validManifest(f))
	f.Add([]byte(`{"format":"xbr-repo-manifest","chunk_ids":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, ids, err := readAll(data)
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
			if int64(len(ids[i])) != d.Chunks {
				t.Fatalf("disk %d: %d ids, header says %d", i, len(ids[i]), d.Chunks)
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
