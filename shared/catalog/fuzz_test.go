package catalog_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// FuzzParseID: an accepted id prints back to the same string; a full backup's keys are valid
// remote keys that stay under xo-vm-backups/; a repository point's id never yields them, and
// its point name is "<uuid>/<timestamp>".
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"nfs:" + vmA + "/20231012T101112Z",
		"a.b-c_d:" + vmB + "/19991231T235959Z",
		"nfs:../" + vmA + "/20231012T101112Z",
		"nfs:" + vmA + "/%2e%2e",
		"/etc/passwd",
		"nfs:xbr-repo/" + vmA + "/20231012T101112Z",
		"nfs:xbr-repo/../" + vmA + "/20231012T101112Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := catalog.ParseID(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid backup id") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			return
		}
		if id.String() != s {
			t.Fatalf("ParseID(%q).String() = %q", s, id.String())
		}
		again, err := catalog.ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("re-parse of %q: %+v, %v", s, again, err)
		}
		if p, ok := id.RepoPoint(); ok {
			checkRepoID(t, s, id, p)
			return
		}
		for _, key := range []string{id.DataKey(), id.MetaKey(), id.ChecksumKey()} {
			if strings.Contains(key, "..") || strings.HasPrefix(key, "/") || !strings.HasPrefix(key, catalog.Root) {
				t.Fatalf("id %q gives key %q", s, key)
			}
			if err := remote.ValidateKey(key); err != nil {
				t.Fatalf("id %q gives an invalid key: %v", s, err)
			}
		}
	})
}

func checkRepoID(t *testing.T, s string, id catalog.ID, point string) {
	t.Helper()
	if !strings.HasPrefix(s, id.Remote+":"+catalog.RepoPrefix) || !strings.HasSuffix(s, ":"+catalog.RepoPrefix+point) ||
		strings.Contains(point, "..") || strings.Count(point, "/") != 1 {
		t.Fatalf("repository id %q: point %q", s, point)
	}
	for _, key := range []func() string{id.DataKey, id.MetaKey, id.ChecksumKey} {
		if k, panicked := keyOf(key); !panicked {
			t.Fatalf("repository id %q gives the full-backup key %q", s, k)
		}
	}
}

// FuzzParseMetadata: garbage never panics; accepted metadata survives Marshal and re-parse.
func FuzzParseMetadata(f *testing.F) {
	f.Add(readSample(f))
	f.Add([]byte(`{"mode":"full"}`))
	f.Add([]byte(`{"jobId":"j","mode":"full","scheduleId":"s","timestamp":1,"version":"2.0.0","vm":{"uuid":"` + vmA + `"},"vmSnapshot":{},"xva":"./19700101T000000Z.xva","size":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := catalog.ParseMetadata(bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted metadata does not marshal: %v", err)
		}
		m2, err := catalog.ParseMetadata(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if m2.VMUUID() != m.VMUUID() || m2.Basename() != m.Basename() || m2.Size != m.Size {
			t.Fatalf("round trip changed the backup: %+v vs %+v", m2, m)
		}
	})
}

// FuzzParseTimestamp: a file-name timestamp (from listings of the remote, run records) is
// accepted only in the one form FormatTimestamp gives, and a refused one is quoted.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"20231012T101112Z", "20231012T101112.5Z", "20230230T000000Z", "20231012T246000Z", "2023-10-12T10:11:12Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := catalog.ParseTimestamp(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseTimestamp(%q): %v does not quote the value", s, err)
			}
			return
		}
		if catalog.FormatTimestamp(at) != s || at.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) = %v, formats as %q", s, at, catalog.FormatTimestamp(at))
		}
	})
}
