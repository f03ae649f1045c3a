package catalog_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"xbr/shared/catalog"
)

func TestParseChecksum(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"$1$$d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{"$1$$D41D8CD98F00B204E9800998ECF8427E\n", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{"d41d8cd98f00b204e9800998ecf8427e", "", `want "$1$$" and 32 hex digits`},
		{"$5$$d41d8cd98f00b204e9800998ecf8427e", "", `want "$1$$"`},
		{"$1$$d41d8cd98f00b204e9800998ecf8427", "", "32 hex digits"},
		{"$1$$z41d8cd98f00b204e9800998ecf8427e", "", "invalid byte"},
	}
	for _, tc := range tests {
		got, err := catalog.ParseChecksum(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, want an error containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || hex.EncodeToString(got) != tc.want):
			t.Errorf("%q: got %x, %v", tc.in, got, err)
		}
	}
}

func FuzzParseChecksum(f *testing.F) {
	f.Add("$1$$d41d8cd98f00b204e9800998ecf8427e")
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := catalog.ParseChecksum(s)
		if err == nil && len(sum) != 16 {
			t.Fatalf("%q: %d-byte digest", s, len(sum))
		}
		if err != nil && !strings.Contains(err.Error(), "checksum file") {
			t.Fatalf("%q: error %v does not name the file", s, err)
		}
	})
}

// What Commit writes, ReadChecksum reads back.
func TestChecksumRoundTrip(t *testing.T) {
	const md5hex = "d41d8cd98f00b204e9800998ecf8427e"
	got, err := catalog.ParseChecksum(catalog.FormatChecksum(md5hex))
	if err != nil || hex.EncodeToString(got) != md5hex {
		t.Fatalf("got %x, %v", got, err)
	}
}
