package catalog_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"xbr/shared/catalog"
)

func TestParseChecksum(t *testing.T) {
	const empty256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		in, alg, want, err string
	}{
		{"$1$$d41d8cd98f00b204e9800998ecf8427e", "md5", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{"$1$$D41D8CD98F00B204E9800998ECF8427E\n", "md5", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{"$5$$" + empty256, "sha256", empty256, ""},
		{"$6$$" + strings.Repeat("ab", 64), "sha512", strings.Repeat("ab", 64), ""},
		{"d41d8cd98f00b204e9800998ecf8427e", "", "", `want "$1$$" (md5), "$5$$" (sha256)`},
		{"$2$$d41d8cd98f00b204e9800998ecf8427e", "", "", `want "$1$$" (md5)`},
		{"$5$$d41d8cd98f00b204e9800998ecf8427e", "", "", "want 64 hex digits of sha256"},
		{"$1$$d41d8cd98f00b204e9800998ecf8427", "", "", "want 32 hex digits of md5"},
		{"$1$$z41d8cd98f00b204e9800998ecf8427e", "", "", "invalid byte"},
	}
	for _, tc := range tests {
		got, err := catalog.ParseChecksum(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, want an error containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got.Algorithm != tc.alg || hex.EncodeToString(got.Sum) != tc.want):
			t.Errorf("%q: got %s %x, %v", tc.in, got.Algorithm, got.Sum, err)
		}
	}
}

func FuzzParseChecksum(f *testing.F) {
	f.Add("$1$$d41d8cd98f00b204e9800998ecf8427e")
	f.Add("$5$$e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := catalog.ParseChecksum(s)
		if err == nil && len(c.Sum) != c.NewHash().Size() {
			t.Fatalf("%q: %d-byte %s digest", s, len(c.Sum), c.Algorithm)
		}
		if err != nil && !strings.Contains(err.Error(), "checksum file") {
			t.Fatalf("%q: error %v does not name the file", s, err)
		}
	})
}

// What Commit writes, ReadChecksum reads back; its hash is SHA-256.
func TestChecksumRoundTrip(t *testing.T) {
	sum := sha256.Sum256([]byte("xva"))
	got, err := catalog.ParseChecksum(catalog.FormatChecksum(hex.EncodeToString(sum[:])))
	if err != nil || got.Algorithm != "sha256" || hex.EncodeToString(got.Sum) != hex.EncodeToString(sum[:]) {
		t.Fatalf("got %s %x, %v", got.Algorithm, got.Sum, err)
	}
	if h := got.NewHash(); h.Size() != sha256.Size {
		t.Fatalf("hash of %d bytes", h.Size())
	}
	if h := (catalog.Checksum{Algorithm: "md5"}).NewHash(); h.Size() != md5.Size {
		t.Fatalf("md5 hash of %d bytes", h.Size())
	}
}
