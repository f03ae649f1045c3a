package vmselect

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"xbr/shared/config"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// NoBackupTag excludes a VM from every backup job; "xo:no-bak=<reason>"
// does the same and says why.
const NoBackupTag = "xo:no-bak"

// Pool is one pool's VM records, as xapi.Client.VMs returns them.
type Pool struct {
	Name string
	VMs  map[xapi.VMRef]xapi.VM
}

// VM is a selected VM and the pool it lives in.
type VM struct {
	Pool string
	Ref  xapi.VMRef
	UUID string
	Name string
}

// Rejected is a VM listed by UUID that cannot be backed up, and why.
type Rejected struct {
	UUID   string
	Pool   string // "" when the VM was not found
	Name   string
	Reason string
}

// Result is what a job selects: the VMs to back up (ordered by pool, then
// name, then UUID) and the explicitly listed VMs it had to leave out.
type Result struct {
	VMs      []VM
	Rejected []Rejected
}

// Select applies sel to the pools' VMs.
func Select(sel config.VMSelection, pools []Pool) Result {
	if len(sel.UUIDs) > 0 {
		return explicit(sel.UUIDs, pools)
	}
	var out Result
	for _, p := range pools {
		if sel.Pool != "" && sel.Pool != p.Name {
			continue
		}
		for ref, vm := range p.VMs {
			if Ineligible(vm) == "" && matches(sel, vm) {
				out.VMs = append(out.VMs, VM{Pool: p.Name, Ref: ref, UUID: vm.UUID, Name: vm.NameLabel})
			}
		}
	}
	sortVMs(out.VMs, pools)
	return out
}

func explicit(uuids []string, pools []Pool) Result {
	type found struct {
		pool string
		ref  xapi.VMRef
		vm   xapi.VM
	}
	byUUID := map[string]found{}
	for _, p := range pools {
		for ref, vm := range p.VMs {
			byUUID[strings.ToLower(vm.UUID)] = found{p.Name, ref, vm}
		}
	}
	var out Result
	seen := map[string]bool{}
	for _, u := range uuids {
		u = strings.ToLower(u)
		if seen[u] {
			continue
		}
		seen[u] = true
		f, ok := byUUID[u]
		switch {
		case !ok:
			out.Rejected = append(out.Rejected, Rejected{UUID: u, Reason: "no VM with this uuid in pools " + poolNames(pools)})
		case Ineligible(f.vm) != "":
			out.Rejected = append(out.Rejected, Rejected{UUID: u, Pool: f.pool, Name: f.vm.NameLabel, Reason: Ineligible(f.vm)})
		default:
			out.VMs = append(out.VMs, VM{Pool: f.pool, Ref: f.ref, UUID: f.vm.UUID, Name: f.vm.NameLabel})
		}
	}
	sortVMs(out.VMs, pools)
	return out
}

// Ineligible says why vm can never be backed up ("" when it can): it is no
// VM of a user's (NotAVM), or it is tagged xo:no-bak.
func Ineligible(vm xapi.VM) string {
	if why := NotAVM(vm); why != "" {
		return why
	}
	if tag := NoBackup(vm); tag != "" {
		return fmt.Sprintf("is tagged %q", tag)
	}
	return ""
}

// NotAVM says why vm is no VM of a user's ("" when it is one): it is a
// template, a snapshot or a control domain, a health check's throw-away
// test VM (tagged xbr:healthcheck), or a replication's standby copy (start
// blocked: the protection of the VM it copies; once failed over it is a VM
// again).
func NotAVM(vm xapi.VM) string {
	switch {
	case vm.IsControlDomain:
		return "is a control domain"
	case vm.IsASnapshot:
		return "is a snapshot"
	case vm.IsATemplate || vm.IsDefaultTemplate:
		return "is a template"
	case slices.Contains(vm.Tags, xotag.TagHealthCheck):
		return "is a health check's test VM"
	case xotag.StandbyCopy(vm.UUID, vm.OtherConfig, vm.BlockedOperations):
		return "is a standby copy of VM " + vm.OtherConfig[xotag.KeyVM]
	}
	return ""
}

// NoBackup is vm's xo:no-bak tag, "xo:no-bak" or "xo:no-bak=<reason>" (""
// when it has none).
func NoBackup(vm xapi.VM) string {
	for _, t := range vm.Tags {
		if t == NoBackupTag || strings.HasPrefix(t, NoBackupTag+"=") {
			return t
		}
	}
	return ""
}

func matches(sel config.VMSelection, vm xapi.VM) bool {
	if sel.PowerState != "" && !strings.EqualFold(sel.PowerState, string(vm.PowerState)) {
		return false
	}
	for _, want := range sel.Tags {
		if !hasTag(vm.Tags, want) {
			return false
		}
	}
	return true
}

func hasTag(tags []string, want string) bool {
	for _, t := range tags {
		if t == want {
			return true
		}
	}
	return false
}

func sortVMs(vms []VM, pools []Pool) {
	order := map[string]int{}
	for i, p := range pools {
		order[p.Name] = i
	}
	sort.Slice(vms, func(i, j int) bool {
		a, b := vms[i], vms[j]
		if order[a.Pool] != order[b.Pool] {
			return order[a.Pool] < order[b.Pool]
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.UUID < b.UUID
	})
}

func poolNames(pools []Pool) string {
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
