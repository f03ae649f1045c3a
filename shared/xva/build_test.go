package xva_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/shared/xva"
)

func exportSet() xva.ExportSet {
	return xva.ExportSet{
		VM: xva.Record{Ref: "OpaqueRef:vm", Fields: map[string]any{
			"uuid": "u-vm", "power_state": "Running", "is_a_snapshot": true, "snapshot_of": "OpaqueRef:parentvm",
			"snapshots": []any{"OpaqueRef:s1"}, "resident_on": "OpaqueRef:host", "parent": "OpaqueRef:p",
			"VBDs":               []any{"OpaqueRef:vbd-disk", "OpaqueRef:vbd-cd", "OpaqueRef:vbd-other-vm"},
			"current_operations": map[string]any{"OpaqueRef:task": "export"}, "allowed_operations": []any{"start"},
			"other_config": map[string]string{"mac_seed": "m"}, "memory_static_max": int64(1 << 30)}},
		VBDs: []xva.Record{
			{Ref: "OpaqueRef:vbd-disk", Fields: map[string]any{"VM": "OpaqueRef:vm", "VDI": "OpaqueRef:vdi-disk",
				"type": "Disk", "currently_attached": true, "metrics": "OpaqueRef:m"}},
			{Ref: "OpaqueRef:vbd-cd", Fields: map[string]any{"VM": "OpaqueRef:vm", "VDI": "OpaqueRef:vdi-iso", "type": "CD"}},
		},
		VDIs: []xva.Record{
			{Ref: "OpaqueRef:vdi-disk", Fields: map[string]any{"SR": "OpaqueRef:sr", "virtual_size": "4194304",
				"type": "user", "VBDs": []any{"OpaqueRef:vbd-disk", "OpaqueRef:vbd-elsewhere"}}},
			{Ref: "OpaqueRef:vdi-iso", Fields: map[string]any{"SR": "OpaqueRef:iso", "virtual_size": "1000", "type": "user"}},
		},
		SRs: []xva.Record{
			{Ref: "OpaqueRef:sr", Fields: map[string]any{"content_type": "user", "PBDs": []any{"OpaqueRef:pbd"},
				"VDIs": []any{"OpaqueRef:vdi-disk", "OpaqueRef:vdi-other"}}},
			{Ref: "OpaqueRef:iso", Fields: map[string]any{"content_type": "iso", "VDIs": []any{"OpaqueRef:vdi-iso"}}},
		},
	}
}

func TestBuildHeader(t *testing.T) {
	set := exportSet()
	h, err := xva.BuildHeader(testVersion, set)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range h.Objects {
		got = append(got, o.Class+" "+o.ID)
	}
	want := "VM Ref:0,VBD Ref:1,VBD Ref:2,VDI Ref:3,VDI Ref:4,SR Ref:5,SR Ref:6"
	if strings.Join(got, ",") != want {
		t.Fatalf("objects = %s, want %s", strings.Join(got, ","), want)
	}
	checks := []struct {
		obj   int
		field string
		want  any
	}{
		{0, "power_state", "Halted"},
		{0, "is_a_snapshot", false},
		{0, "snapshot_of", "OpaqueRef:NULL"},
		{0, "snapshots", []any{}},
		{0, "snapshot_time", time.Unix(0, 0).UTC()},
		{0, "parent", "OpaqueRef:NULL"},
		{0, "resident_on", "OpaqueRef:NULL"},
		{0, "VBDs", []any{"Ref:1", "Ref:2"}},
		{0, "current_operations", map[string]any{}},
		{0, "allowed_operations", []any{}},
		{0, "other_config", map[string]string{"mac_seed": "m"}},
		{1, "VDI", "Ref:3"},
		{1, "currently_attached", false},
		{1, "metrics", "OpaqueRef:NULL"},
		{3, "SR", "Ref:5"},
		{3, "VBDs", []any{"Ref:1"}},
		{5, "VDIs", []any{"Ref:3"}},
		{5, "PBDs", []any{}},
	}
	for _, c := range checks {
		o := h.Objects[c.obj]
		if got := o.Snapshot[c.field]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s.%s = %#v, want %#v", o.Class, o.ID, c.field, got, c.want)
		}
	}
	if set.VM.Fields["power_state"] != "Running" || len(set.SRs[0].Fields["VDIs"].([]any)) != 2 {
		t.Error("BuildHeader modified the records it was given")
	}
	disks, err := h.Disks()
	if err != nil || len(disks) != 1 || disks[0].ID != "Ref:3" || disks[0].Size != 4194304 {
		t.Fatalf("Disks() = %+v, %v; want only Ref:3 of 4194304 bytes (the ISO is not streamed)", disks, err)
	}
}

func TestBuildHeaderPreservePowerState(t *testing.T) {
	set := exportSet()
	set.PreservePowerState = true
	h, err := xva.BuildHeader(testVersion, set)
	if err != nil {
		t.Fatal(err)
	}
	if ps := h.Objects[0].Snapshot["power_state"]; ps != "Running" {
		t.Errorf("power_state = %v, want Running kept", ps)
	}
}

func TestBuildHeaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*xva.ExportSet)
		want   string
	}{
		{"missing VDI", func(s *xva.ExportSet) { s.VDIs = s.VDIs[1:] },
			`VBD Ref:1: VDI: "OpaqueRef:NULL" is not a VDI of the export`},
		{"missing SR", func(s *xva.ExportSet) { s.SRs = s.SRs[1:] }, `VDI Ref:3: SR: "OpaqueRef:NULL" is not an SR`},
		{"bad ref", func(s *xva.ExportSet) { s.VM.Ref = "Ref:1" }, `VM ref "Ref:1" is not an OpaqueRef`},
		{"duplicate", func(s *xva.ExportSet) { s.VDIs = append(s.VDIs, s.VDIs[0]) }, "VDI OpaqueRef:vdi-disk given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := exportSet()
			tt.mutate(&set)
			_, err := xva.BuildHeader(testVersion, set)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestOVARoundTrip checks MarshalOVA → ParseOVA keeps what the importer
// needs (values come back in their wire forms: ints as decimal strings).
func TestOVARoundTrip(t *testing.T) {
	h, err := xva.BuildHeader(testVersion, exportSet())
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<value><struct><member><name>version</name>") || strings.ContainsAny(string(b), "\n ") {
		t.Errorf("ova.xml does not start like XAPI's compact form: %.80s", b)
	}
	p, err := xva.ParseOVA(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != testVersion || len(p.Objects) != len(h.Objects) {
		t.Fatalf("parsed %+v with %d objects", p.Version, len(p.Objects))
	}
	if got := p.Objects[0].Snapshot["memory_static_max"]; got != "1073741824" {
		t.Errorf("memory_static_max = %#v, want the untagged decimal string", got)
	}
	d1, _ := h.Disks()
	d2, err := p.Disks()
	if err != nil || len(d2) != 1 || d2[0].ID != d1[0].ID || d2[0].Size != d1[0].Size {
		t.Errorf("parsed Disks() = %+v, %v; want %+v", d2, err, d1)
	}
}

func TestParseOVAErrors(t *testing.T) {
	ver := `<member><name>version</name><value><struct><member><name>hostname</name><value>h</value></member><member><name>date</name><value>d</value></member><member><name>product_version</name><value>p</value></member><member><name>product_brand</name><value>b</value></member><member><name>build_number</name><value>n</value></member><member><name>xapi_major</name><value>1</value></member><member><name>xapi_minor</name><value>20</value></member><member><name>export_vsn</name><value>2</value></member></struct></value></member>`
	objs := func(s string) string {
		return `<value><struct>` + ver + `<member><name>objects</name><value><array><data>` + s + `</data></array></value></member></struct></value>`
	}
	tests := []struct{ name, doc, want string }{
		{"not xml", "garbage", "xva: ova.xml: "},
		{"array at top", "<value><array><data></data></array></value>", "top-level value is an array, not a struct"},
		{"no version", "<value><struct></struct></value>", `field "version" is missing, not a struct`},
		{"bad int", strings.Replace(objs(""), "<value>20</value>", "<value>twenty</value>", 1), `version.xapi_minor: "twenty" is not an int`},
		{"no objects", `<value><struct>` + ver + `</struct></value>`, `field "objects" is missing, not an array`},
		{"object not struct", objs("<value>x</value>"), "object 0 is a string, not a struct"},
		{"no class", objs("<value><struct></struct></value>"), "object 0: class: missing is not a class name"},
		{"no id", objs("<value><struct><member><name>class</name><value>VM</value></member></struct></value>"), "object 0 (VM): id: missing is not an id"},
		{"bad snapshot", objs("<value><struct><member><name>class</name><value>VM</value></member><member><name>id</name><value>Ref:0</value></member><member><name>snapshot</name><value>s</value></member></struct></value>"),
			`object 0 (VM Ref:0): snapshot: "s" is not a struct`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xva.ParseOVA([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
