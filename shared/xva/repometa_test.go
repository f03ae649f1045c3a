package xva_test

import (
	"encoding/json"
	"strings"
	"testing"

	"xbr/shared/xva"
)

const (
	snapVDI = "11111111-2222-3333-4444-555555555555"
	liveVDI = "66666666-7777-8888-9999-000000000000"
)

// repoRecords returns valid records over exportSet: one disk, Ref:3.
func repoRecords(t testing.TB) xva.RepoRecords {
	h, err := xva.BuildHeader(testVersion, exportSet())
	if err != nil {
		t.Fatal(err)
	}
	ova, err := h.MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	disks, err := h.Disks()
	if err != nil || len(disks) != 1 {
		t.Fatalf("disks %v, %v", disks, err)
	}
	return xva.RepoRecords{Format: xva.RepoFormat, OVAXML: string(ova),
		Disks: []xva.RepoDisk{{Name: disks[0].ID, SnapshotVDI: snapVDI, SourceVDI: liveVDI, Userdevice: "0",
			Path: "full-scan", PathReason: "first-run"}},
		VMName: "web-01 (Debian 12)", Job: "hourly", JobID: "5275a6fb-7a45-52af-b8ff-79dc52c29d4a",
		Schedule: "h", ScheduleID: "8fad87ef-6b3a-5cce-b5f8-102dc0e1f2a3"}
}

func TestRepoRecordsRoundTrip(t *testing.T) {
	r := repoRecords(t)
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := xva.DecodeRepoRecords(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.OVAXML != r.OVAXML || len(got.Disks) != 1 || got.Disks[0] != r.Disks[0] || got.VMName != r.VMName ||
		got.Job != r.Job || got.JobID != r.JobID || got.Schedule != r.Schedule || got.ScheduleID != r.ScheduleID {
		t.Fatalf("round trip: got %+v", got.Disks)
	}
	h, err := got.Header()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := h.Disks(); len(d) != 1 || d[0].ID != r.Disks[0].Name {
		t.Fatalf("header disks %v", d)
	}
}

func TestRepoRecordsRefused(t *testing.T) {
	good, err := repoRecords(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*xva.RepoRecords)
		raw  string
		want string
	}{
		"format":       {edit: func(r *xva.RepoRecords) { r.Format = "xbr-ova-2" }, want: `format "xbr-ova-2"`},
		"empty ova":    {edit: func(r *xva.RepoRecords) { r.OVAXML = "" }, want: "ova_xml is empty"},
		"bad ova":      {edit: func(r *xva.RepoRecords) { r.OVAXML = "<value>" }, want: "ova_xml"},
		"name":         {edit: func(r *xva.RepoRecords) { r.Disks[0].Name = "../x" }, want: `name "../x"`},
		"wrong name":   {edit: func(r *xva.RepoRecords) { r.Disks[0].Name = "Ref:9" }, want: `ova_xml has "Ref:3"`},
		"snapshot":     {edit: func(r *xva.RepoRecords) { r.Disks[0].SnapshotVDI = "X" }, want: `snapshot_vdi "X"`},
		"source":       {edit: func(r *xva.RepoRecords) { r.Disks[0].SourceVDI = "" }, want: `source_vdi ""`},
		"userdevice":   {edit: func(r *xva.RepoRecords) { r.Disks[0].Userdevice = "01" }, want: `userdevice "01"`},
		"disk count":   {edit: func(r *xva.RepoRecords) { r.Disks = nil }, want: "ova_xml has 1 disks, disks lists 0"},
		"path":         {edit: func(r *xva.RepoRecords) { r.Disks[0].Path = "nbd" }, want: `path "nbd"`},
		"reason":       {edit: func(r *xva.RepoRecords) { r.Disks[0].Path, r.Disks[0].PathReason = "cbt", "first-run" }, want: `path_reason "first-run"`},
		"duplicate":    {edit: func(r *xva.RepoRecords) { r.Disks = append(r.Disks, r.Disks[0]) }, want: "given twice"},
		"job id alone": {edit: func(r *xva.RepoRecords) { r.ScheduleID = "" }, want: "want both or neither"},
		"long name":    {edit: func(r *xva.RepoRecords) { r.VMName = strings.Repeat("v", 1025) }, want: "vm_name: 1025 bytes"},
		"unknown key":  {raw: strings.Replace(string(good), `"format"`, `"extra":1,"format"`, 1), want: "unknown field"},
		"trailing":     {raw: string(good) + `{}`, want: "data after the object"},
		"not json":     {raw: `[`, want: "repository records"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			raw := c.raw
			if c.edit != nil {
				r := repoRecords(t)
				c.edit(&r)
				if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Encode: %v, want %q", err, c.want)
				}
				b, _ := jsonOf(r)
				raw = string(b)
			}
			if _, err := xva.DecodeRepoRecords([]byte(raw)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Decode: %v, want %q", err, c.want)
			}
		})
	}
	// Invalid UTF-8 is refused when encoding (JSON decoding replaces it, so
	// no decoded record has any).
	r := repoRecords(t)
	r.Schedule = "h\xff"
	if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), "schedule: 2 bytes, want valid UTF-8") {
		t.Fatalf("Encode of invalid UTF-8: %v", err)
	}
}

func FuzzDecodeRepoRecords(f *testing.F) {
	good, err := repoRecords(f).Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"xbr-ova-1","ova_xml":"","disks":[]}`))
	f.Add([]byte(`{"format":"xbr-ova-1","ova_xml":"<value><struct></struct></value>"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := xva.DecodeRepoRecords(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "xva: repository records") {
				t.Fatalf("error without its subject: %v", err)
			}
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("decoded records do not encode: %v", err)
		}
		r2, err := xva.DecodeRepoRecords(again)
		if err != nil || r2.OVAXML != r.OVAXML || len(r2.Disks) != len(r.Disks) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// jsonOf encodes r without validating it.
func jsonOf(r xva.RepoRecords) ([]byte, error) { return json.Marshal(r) }
