package xva_test

import (
	"bytes"
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
		"format":       {edit: func(r *xva.RepoRecords) { r.Format = "xbr-ova-3" }, want: `format "xbr-ova-3"`},
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

// TestRepoRecordsV1: records written before format 2 (no name or scope)
// are still read.
func TestRepoRecordsV1(t *testing.T) {
	r := repoRecords(t)
	r.Format, r.VMName, r.Job, r.JobID, r.Schedule, r.ScheduleID = xva.RepoFormatV1, "", "", "", "", ""
	data, err := jsonOf(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := xva.DecodeRepoRecords(data); err != nil || got.Format != xva.RepoFormatV1 || got.JobID != "" {
		t.Fatalf("v1 records: %+v, %v", got, err)
	}
}

// TestRepoScope: the scope is read from any records object, whatever other
// fields it has (a newer format's too); a non-object or half a scope is an
// error that says which.
func TestRepoScope(t *testing.T) {
	good, err := repoRecords(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	newer := strings.Replace(string(good), `"format":"xbr-ova-2"`, `"format":"xbr-ova-9","later":[1,2]`, 1)
	if newer == string(good) {
		t.Fatalf("no format field to replace in %.60s", good)
	}
	for _, c := range []struct{ in, job, sched, err string }{
		{in: string(good), job: "5275a6fb-7a45-52af-b8ff-79dc52c29d4a", sched: "8fad87ef-6b3a-5cce-b5f8-102dc0e1f2a3"},
		{in: newer, job: "5275a6fb-7a45-52af-b8ff-79dc52c29d4a", sched: "8fad87ef-6b3a-5cce-b5f8-102dc0e1f2a3"},
		{in: `{"format":"xbr-ova-1","ova_xml":"…"}`}, // written before points recorded a scope
		{in: `{"format":"xbr-ova-1","job_id":"j","schedule_id":"s"}`, job: "j", sched: "s"},
		{in: `{"name_label":"vm"}`, err: `format "" is not xbr-ova-<n>`},
		{in: `{"format":"xbr-ova-2"}`, err: `format "xbr-ova-2" without job_id and schedule_id`},
		{in: `{"format":"xbr-ova-2","job_id":null,"schedule_id":null}`, err: "without job_id and schedule_id"},
		{in: `null`, err: "not a JSON object"},
		{in: ` [1]`, err: "not a JSON object"},
		{in: `{"format":"xbr-ova-2","job_id":"j"}`, err: `job_id "j" and schedule_id "": want both or neither`},
		{in: `{"format":"xbr-ova-2","job_id":7,"schedule_id":"s"}`, err: "job_id"},
		{in: `{`, err: "unexpected end of JSON input"},
	} {
		got, err := xva.DecodeRepoScope([]byte(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "xva: repository records") {
				t.Errorf("DecodeRepoScope(%.40s): %v, want an error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.JobID != c.job || got.ScheduleID != c.sched {
			t.Errorf("DecodeRepoScope(%.40s) = %+v, %v; want %s %s", c.in, got, err, c.job, c.sched)
		}
	}
}

// FuzzDecodeRepoScope: the lenient scope agrees with the strict decoder on
// every record the strict one accepts (the same ids; none only for format
// 1, and an error for a later format without them), is an error naming the
// records otherwise, and never takes a non-object for records.
func FuzzDecodeRepoScope(f *testing.F) {
	good, err := repoRecords(f).Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"xbr-ova-1","job_id":"a","schedule_id":"b"}`))
	f.Add([]byte(`{"format":"xbr-ova-2"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := xva.DecodeRepoScope(data)
		if err != nil && !strings.HasPrefix(err.Error(), "xva: repository records") {
			t.Fatalf("error without its subject: %v", err)
		}
		if err == nil {
			if t0 := bytes.TrimSpace(data); len(t0) == 0 || t0[0] != '{' {
				t.Fatalf("a scope from a non-object: %q", data)
			}
			if (s.JobID == "") != (s.ScheduleID == "") || (s.Unscoped() && s.Format != xva.RepoFormatV1) {
				t.Fatalf("scope %+v", s)
			}
		}
		r, rerr := xva.DecodeRepoRecords(data)
		switch {
		case rerr != nil:
		case r.Format != xva.RepoFormatV1 && r.JobID == "":
			if err == nil {
				t.Fatalf("format %q records without ids gave scope %+v", r.Format, s)
			}
		case err != nil || s.JobID != r.JobID || s.ScheduleID != r.ScheduleID || s.Format != r.Format:
			t.Fatalf("records %+v have scope %+v, %v", r, s, err)
		}
	})
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
