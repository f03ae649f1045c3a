package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
)

func readSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/xo-full-backup.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A .json written by Xen Orchestra (no xbr object) parses, with its names and records.
func TestParseXOMetadata(t *testing.T) {
	m, err := catalog.ParseMetadata(bytes.NewReader(readSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"jobId", m.JobID, "6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f"},
		{"scheduleId", m.ScheduleID, "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"},
		{"VMUUID", m.VMUUID(), vmA},
		{"VMName", m.VMName(), "web-01 (Debian 12)"},
		{"SnapshotUUID", m.SnapshotUUID(), "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
		{"Basename", m.Basename(), "20231012T101112Z"},
		{"xva", m.XVA, "./20231012T101112Z.xva"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if m.Size != 1843396608 || m.Xbr != nil {
		t.Errorf("size %d, xbr %+v", m.Size, m.Xbr)
	}
	if want := time.Date(2023, 10, 12, 10, 11, 12, 381e6, time.UTC); !m.Time().Equal(want) {
		t.Errorf("Time() = %v, want %v", m.Time(), want)
	}
}

// Marshal keeps every field of the XAPI records and XO's fields; the xbr object round-trips.
func TestMetadataRoundTrip(t *testing.T) {
	sample := readSample(t)
	m, err := catalog.ParseMetadata(bytes.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	m.Xbr = &catalog.Xbr{Version: "1.2.3", SHA256: strings.Repeat("ab", 32), Codec: catalog.CodecZstd,
		RunID: "run-1", Pool: "lab", Job: "nightly", Schedule: "daily", RawSize: 4 << 30,
		DurationMS: 61234, BytesPerSecond: 30101234}
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var before, after map[string]any
	if err := json.Unmarshal(sample, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatal(err)
	}
	xbr := after["xbr"].(map[string]any)
	delete(after, "xbr")
	if !jsonEqual(t, before, after) {
		t.Errorf("XO fields changed:\n%s", out)
	}
	if xbr["sha256"] != strings.Repeat("ab", 32) || xbr["codec"] != "zstd" || xbr["run_id"] != "run-1" {
		t.Errorf("xbr object = %v", xbr)
	}
	m2, err := catalog.ParseMetadata(bytes.NewReader(out))
	if err != nil || *m2.Xbr != *m.Xbr {
		t.Errorf("re-parse: %+v, %v", m2.Xbr, err)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Each broken field gives an error naming it and its value.
func TestParseMetadataRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"delta", func(m map[string]any) { m["mode"] = "delta" }, `mode "delta"`},
		{"no jobId", func(m map[string]any) { delete(m, "jobId") }, "jobId"},
		{"no scheduleId", func(m map[string]any) { m["scheduleId"] = "" }, "scheduleId"},
		{"no version", func(m map[string]any) { delete(m, "version") }, "version"},
		{"timestamp string", func(m map[string]any) { m["timestamp"] = "yesterday" }, "field timestamp"},
		{"timestamp zero", func(m map[string]any) { m["timestamp"] = 0 }, "timestamp 0"},
		{"negative size", func(m map[string]any) { m["size"] = -5 }, "size -5"},
		{"xva elsewhere", func(m map[string]any) { m["xva"] = "../../etc/passwd" }, `xva "../../etc/passwd"`},
		{"xva other time", func(m map[string]any) { m["xva"] = "./20231012T101113Z.xva" }, "xva"},
		{"vm string", func(m map[string]any) { m["vm"] = "web-01" }, "vm: want the XAPI record"},
		{"vm missing", func(m map[string]any) { delete(m, "vm") }, "vm: want"},
		{"vmSnapshot null", func(m map[string]any) { m["vmSnapshot"] = nil }, "vmSnapshot"},
		{"vm uuid bad", func(m map[string]any) { m["vm"].(map[string]any)["uuid"] = "../x" }, `vm.uuid: vm uuid "../x"`},
		{"xbr bad sha", func(m map[string]any) { m["xbr"] = map[string]any{"sha256": "zz", "codec": "gzip"} }, `xbr.sha256 "zz"`},
		{"xbr bad codec", func(m map[string]any) {
			m["xbr"] = map[string]any{"sha256": strings.Repeat("0", 64), "codec": "lz4"}
		}, `xbr.codec "lz4"`},
		{"xbr control", func(m map[string]any) {
			m["xbr"] = map[string]any{"sha256": strings.Repeat("0", 64), "codec": "none", "job": "a\nb"}
		}, "xbr.job"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(readSample(t), &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, _ := json.Marshal(m)
			_, err := catalog.ParseMetadata(bytes.NewReader(b))
			if !errors.Is(err, catalog.ErrInvalidMetadata) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidMetadata mentioning %q", err, tc.want)
			}
		})
	}
	for _, garbage := range []string{"", "not json", "[]", `{"mode":"full"`, "\x00\xff"} {
		if _, err := catalog.ParseMetadata(strings.NewReader(garbage)); !errors.Is(err, catalog.ErrInvalidMetadata) {
			t.Errorf("ParseMetadata(%q): err = %v", garbage, err)
		}
	}
	huge := bytes.Repeat([]byte(" "), catalog.MaxMetadataSize+1)
	if _, err := catalog.ParseMetadata(bytes.NewReader(huge)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge: err = %v", err)
	}
}

// XO always writes "tags": [] (FullRemoteWriter), even when no long-term bucket applies; a
// backup without tags is written the same way, never with the field left out or null.
func TestMarshalAlwaysWritesTags(t *testing.T) {
	m, err := catalog.ParseMetadata(bytes.NewReader(readSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	m.Tags = nil
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if got := string(fields["tags"]); got != "[]" {
		t.Errorf(`"tags" = %q, want "[]"`, got)
	}
}
