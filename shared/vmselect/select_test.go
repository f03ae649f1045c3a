package vmselect_test

import (
	"reflect"
	"strings"
	"testing"

	"xbr/shared/config"
	"xbr/shared/vmselect"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

const (
	uWeb   = "00000000-0000-4000-8000-000000000001"
	uDB    = "00000000-0000-4000-8000-000000000002"
	uTmpl  = "00000000-0000-4000-8000-000000000003"
	uSnap  = "00000000-0000-4000-8000-000000000004"
	uDom0  = "00000000-0000-4000-8000-000000000005"
	uNoBak = "00000000-0000-4000-8000-000000000006"
	uWhy   = "00000000-0000-4000-8000-000000000007"
	uLab   = "00000000-0000-4000-8000-000000000008"
	uGone  = "00000000-0000-4000-8000-0000000000ff"
)

func pools() []vmselect.Pool {
	return []vmselect.Pool{
		{Name: "prod", VMs: map[xapi.VMRef]xapi.VM{
			"OpaqueRef:web":   {UUID: uWeb, NameLabel: "web", PowerState: xapi.Running, Tags: []string{"prod", "www"}},
			"OpaqueRef:db":    {UUID: uDB, NameLabel: "db", PowerState: xapi.Halted, Tags: []string{"prod"}},
			"OpaqueRef:tmpl":  {UUID: uTmpl, NameLabel: "Debian", IsATemplate: true, Tags: []string{"prod"}},
			"OpaqueRef:snap":  {UUID: uSnap, NameLabel: "web snap", IsASnapshot: true, IsATemplate: true, Tags: []string{"prod", "www"}},
			"OpaqueRef:dom0":  {UUID: uDom0, NameLabel: "Control domain", IsControlDomain: true, PowerState: xapi.Running},
			"OpaqueRef:nobak": {UUID: uNoBak, NameLabel: "scratch", PowerState: xapi.Running, Tags: []string{"prod", "xo:no-bak"}},
			"OpaqueRef:why":   {UUID: uWhy, NameLabel: "cache", PowerState: xapi.Running, Tags: []string{"prod", "xo:no-bak=rebuilt nightly"}},
		}},
		{Name: "lab", VMs: map[xapi.VMRef]xapi.VM{
			"OpaqueRef:lab": {UUID: uLab, NameLabel: "alpha", PowerState: xapi.Running, Tags: []string{"www"}},
		}},
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name     string
		sel      config.VMSelection
		want     []string // uuids in order
		rejected []string // "uuid: reason substring"
	}{
		{name: "everything eligible, pool order then name", sel: config.VMSelection{}, want: []string{uDB, uWeb, uLab}},
		{name: "one pool", sel: config.VMSelection{Pool: "lab"}, want: []string{uLab}},
		{name: "one tag", sel: config.VMSelection{Tags: []string{"www"}}, want: []string{uWeb, uLab}},
		{name: "all tags required", sel: config.VMSelection{Tags: []string{"prod", "www"}}, want: []string{uWeb}},
		{name: "unknown tag selects nothing", sel: config.VMSelection{Tags: []string{"gpu"}}, want: nil},
		{name: "power state", sel: config.VMSelection{PowerState: "Halted"}, want: []string{uDB}},
		{name: "power state any case", sel: config.VMSelection{PowerState: "running", Pool: "prod"}, want: []string{uWeb}},
		{name: "no-bak tag never matches a tag filter", sel: config.VMSelection{Tags: []string{"xo:no-bak"}}, want: nil},
		{name: "explicit keeps list order sorted by pool and name",
			sel: config.VMSelection{UUIDs: []string{uLab, uWeb}}, want: []string{uWeb, uLab}},
		{name: "explicit upper case and twice", sel: config.VMSelection{UUIDs: []string{strings.ToUpper(uDB), uDB}}, want: []string{uDB}},
		{name: "explicit ineligible and missing are rejected with a reason",
			sel:  config.VMSelection{UUIDs: []string{uTmpl, uSnap, uDom0, uNoBak, uWhy, uGone, uWeb}},
			want: []string{uWeb},
			rejected: []string{uTmpl + ": is a template", uSnap + ": is a snapshot", uDom0 + ": is a control domain",
				uNoBak + `: is tagged "xo:no-bak"`, uWhy + `: is tagged "xo:no-bak=rebuilt nightly"`,
				uGone + ": no VM with this uuid in pools prod, lab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := vmselect.Select(tt.sel, pools())
			var got []string
			for _, vm := range res.VMs {
				got = append(got, vm.UUID)
				if vm.Ref == "" || vm.Pool == "" || vm.Name == "" {
					t.Errorf("selected VM lacks ref, pool or name: %+v", vm)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("selected %v, want %v", got, tt.want)
			}
			if len(res.Rejected) != len(tt.rejected) {
				t.Fatalf("rejected %+v, want %v", res.Rejected, tt.rejected)
			}
			for i, r := range res.Rejected {
				if g := r.UUID + ": " + r.Reason; !strings.Contains(g, tt.rejected[i]) {
					t.Errorf("rejected[%d] = %q, want %q", i, g, tt.rejected[i])
				}
			}
		})
	}
}

// copyKeys are a replicated copy's keys: the job and the VM it copies.
var copyKeys = map[string]string{xotag.KeyJob: "00000000-0000-4000-8000-0000000000d1", xotag.KeyVM: uDB,
	xotag.KeySR: "00000000-0000-4000-8000-0000000000d2"}

func TestIneligible(t *testing.T) {
	tests := []struct {
		vm   xapi.VM
		want string
	}{
		{xapi.VM{}, ""},
		{xapi.VM{Tags: []string{"xo:no-bakery"}}, ""}, // only the exact tag or tag=reason
		{xapi.VM{Tags: []string{"xo:no-bak="}}, `is tagged "xo:no-bak="`},
		{xapi.VM{IsDefaultTemplate: true}, "is a template"},
		{xapi.VM{Tags: []string{"prod", xotag.TagHealthCheck}}, "is a health check's test VM"},
		{xapi.VM{UUID: uWeb, OtherConfig: copyKeys, BlockedOperations: map[string]string{"start": "dr"}}, "is a standby copy of VM " + uDB},
		{xapi.VM{UUID: uWeb, OtherConfig: copyKeys}, ""},                                        // failed over: a VM again
		{xapi.VM{UUID: uWeb, BlockedOperations: map[string]string{"start": "maintenance"}}, ""}, // blocked, but no copy
	}
	for _, tt := range tests {
		if got := vmselect.Ineligible(tt.vm); got != tt.want {
			t.Errorf("Ineligible(%+v) = %q, want %q", tt.vm, got, tt.want)
		}
	}
}
