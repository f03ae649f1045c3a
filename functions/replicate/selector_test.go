package replicate_test

import (
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
)

func TestParseSelector(t *testing.T) {
	at := time.Date(2023, 10, 12, 10, 11, 12, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want replicate.Selector
		err  string
	}{
		{in: "", want: replicate.Latest},
		{in: "latest", want: replicate.Latest},
		{in: "20231012T10:11:12Z", want: replicate.Selector{At: at}},
		{in: "20231012T101112Z", want: replicate.Selector{At: at}},
		{in: "2023-10-12T12:11:12+02:00", want: replicate.Selector{At: at}},
		{in: "yesterday", err: `copy "yesterday": want latest or a recovery point`},
		{in: "20231312T101112Z", err: `copy "20231312T101112Z"`},
	} {
		got, err := replicate.ParseSelector(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error starting %q", tc.in, err, tc.err)
			}
		case err != nil || !got.At.Equal(tc.want.At):
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCopyNameRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	name := replicate.CopyName("web - 01", "dr", at)
	if name != "web - 01 - dr - (20260102T030405Z)" {
		t.Fatalf("CopyName = %q", name)
	}
	c := replicate.Copy{CopyRecord: events.CopyRecord{Name: name, VMName: "web - 01", VMUUID: "u", SR: "sr"}}
	if !c.Matches("web - 01") || c.Matches("web") {
		t.Error("Matches by source name")
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"latest", "20231012T10:11:12Z", "20231012T101112Z", "2023-10-12T10:11:12Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := replicate.ParseSelector(s)
		if err != nil {
			if !strings.Contains(err.Error(), "copy ") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		again, err := replicate.ParseSelector(sel.String())
		if err != nil || !again.At.Equal(sel.At) {
			t.Fatalf("%q -> %q -> %v, %v", s, sel.String(), again, err)
		}
	})
}
