package restore_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"xbr/functions/restore"
)

func TestParseXOChecksum(t *testing.T) {
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
		got, err := restore.ParseXOChecksum(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, want an error containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || hex.EncodeToString(got) != tc.want):
			t.Errorf("%q: got %x, %v", tc.in, got, err)
		}
	}
}

func FuzzParseXOChecksum(f *testing.F) {
	f.Add("$1$$d41d8cd98f00b204e9800998ecf8427e")
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := restore.ParseXOChecksum(s)
		if err == nil && len(sum) != 16 {
			t.Fatalf("%q: %d-byte digest", s, len(sum))
		}
		if err != nil && !strings.Contains(err.Error(), "checksum file") {
			t.Fatalf("%q: error %v does not name the file", s, err)
		}
	})
}
