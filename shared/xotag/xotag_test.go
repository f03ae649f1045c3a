package xotag_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/xotag"
)

func TestParseDatetime(t *testing.T) {
	want := time.Date(2023, 10, 12, 10, 11, 12, 0, time.UTC)
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"20231012T10:11:12Z", true}, {"20231012T101112Z", true},
		{"", false}, {"2023-10-12T10:11:12Z", false}, {"20231312T10:11:12Z", false},
		{"20231012T10:11:12.5Z", false}, {"20231012T10:11:12", false}, {" 20231012T10:11:12Z", false},
	} {
		got, err := xotag.ParseDatetime(tt.in)
		switch {
		case tt.ok && (err != nil || !got.Equal(want) || got.Location() != time.UTC):
			t.Errorf("ParseDatetime(%q) = %v, %v; want %v", tt.in, got, err, want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), xotag.KeyDatetime) || !strings.Contains(err.Error(), `"`+tt.in+`"`)):
			t.Errorf("ParseDatetime(%q) = %v, %v; want an error naming the key and the value", tt.in, got, err)
		}
	}
}

func TestFormatDatetimeIsUTCWithColons(t *testing.T) {
	at := time.Date(2026, 3, 29, 3, 4, 5, 999, time.FixedZone("CEST", 2*3600))
	if got := xotag.FormatDatetime(at); got != "20260329T01:04:05Z" {
		t.Fatalf("FormatDatetime = %q", got)
	}
	back, err := xotag.ParseDatetime(xotag.FormatDatetime(at))
	if err != nil || !back.Equal(at.Truncate(time.Second)) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
}

func TestKeysAndNames(t *testing.T) {
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	kv := xotag.Keys("nightly", "daily", "vm-uuid", "run-1", at)
	var got []string
	for _, e := range kv {
		got = append(got, e.Key+"="+e.Value)
	}
	want := "xo:backup:job=nightly xo:backup:schedule=daily xo:backup:vm=vm-uuid xo:backup:datetime=20260301T02:00:00Z xbr:backup:run=run-1"
	if strings.Join(got, " ") != want {
		t.Errorf("Keys = %v\nwant %s", got, want)
	}
	for i, k := range xotag.KeyNames() {
		if kv[i].Key != k {
			t.Errorf("KeyNames()[%d] = %s, Keys wrote %s", i, k, kv[i].Key)
		}
	}
	if noRun := xotag.Keys("j", "s", "v", "", at); len(noRun) != 4 {
		t.Errorf("Keys without a run: %v, want no %s", noRun, xotag.KeyRun)
	}
	if m := xotag.OtherConfig("j", "s", "v", "r", at); len(m) != 5 || m[xotag.KeyRun] != "r" || m[xotag.KeyDatetime] != "20260301T02:00:00Z" {
		t.Errorf("OtherConfig = %v", m)
	}
	if got := xotag.NameLabel("nightly", "web 1"); got != "[XO Backup nightly] web 1" {
		t.Errorf("NameLabel = %q", got)
	}
}

// xo:backup:datetime comes from XAPI records: garbage is an error naming the
// key and quoting the value, and an accepted value prints back in one of the
// two forms it was read from.
func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"20231012T10:11:12Z", "20231012T101112Z", "", "2023-10-12T10:11:12Z", "20231312T10:11:12Z", "\x00", "20231012T10:11:12.5Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := xotag.ParseDatetime(s)
		if err != nil {
			if !strings.Contains(err.Error(), xotag.KeyDatetime) {
				t.Errorf("error %q does not name the key", err)
			}
			return
		}
		if at.Location() != time.UTC || (at.Format(xotag.DatetimeLayout) != s && at.Format(xotag.StampLayout) != s) {
			t.Errorf("%q read as %v", s, at)
		}
	})
}
