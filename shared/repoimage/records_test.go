package repoimage_test

import (
	"errors"
	"strings"
	"testing"

	"xbr/shared/repoimage"
)

func TestParseRecords(t *testing.T) {
	ova, err := repoimage.ParseRecords([]byte(`{"format":"xbr-ova-1","ova_xml":"<value/>"}`))
	if err != nil || string(ova) != "<value/>" {
		t.Fatalf("ParseRecords = %q, %v", ova, err)
	}
	for in, want := range map[string]string{
		``:     "EOF",
		`null`: "format",
		`{"format":"xbr-ova-2","ova_xml":"<v/>"}`:     `format "xbr-ova-2"`,
		`{"format":"xbr-ova-1"}`:                      "ova_xml is empty",
		`{"format":"xbr-ova-1","ova_xml":"x","vm":1}`: `unknown field "vm"`,
		`{"format":"xbr-ova-1","ova_xml":"x"} {}`:     "data after",
		`{"format":"xbr-ova-1","ova_xml":7}`:          "ova_xml",
	} {
		_, err := repoimage.ParseRecords([]byte(in))
		if !errors.Is(err, repoimage.ErrRecords) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRecords(%s) = %v, want ErrRecords mentioning %q", in, err, want)
		}
	}
}

// FuzzParseRecords: garbage never panics; what is accepted is non-empty and came from the
// input.
func FuzzParseRecords(f *testing.F) {
	f.Add([]byte(`{"format":"xbr-ova-1","ova_xml":"<value/>"}`))
	f.Add([]byte(`{"format":"xbr-ova-1","ova_xml":"\u003cvalue/\u003e"}  `))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ova, err := repoimage.ParseRecords(data)
		if err != nil {
			if !errors.Is(err, repoimage.ErrRecords) {
				t.Fatalf("error without ErrRecords: %v", err)
			}
			return
		}
		if len(ova) == 0 || !strings.Contains(string(data), "xbr-ova-1") {
			t.Fatalf("accepted %q as %q", data, ova)
		}
	})
}
