package prune

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// Rolling is one rolling snapshot of a VM: the snapshot VM(s) and the
// snapshot disks without a VM (CBT data-destroyed snapshots) that carry one
// xo:backup:datetime of one schedule.
type Rolling struct {
	Schedule string
	Datetime string
	Time     time.Time
	VMs      []xapi.VMRef
	VDIs     []xapi.VDIRef // disks no snapshot VM owns
	UUIDs    []string      // of VMs, then of VDIs
}

// ID identifies the group in a retention decision.
func (r Rolling) ID() string { return r.Schedule + "@" + r.Datetime }

// finder collects the rolling snapshots of one VM and job.
type finder struct {
	c      *xapi.Client
	jobs   []string // the values of xo:backup:job that name the job
	vmUUID string
	groups map[string]*Rolling
	seenVM map[xapi.VMRef]bool
}

// FindRolling returns the rolling snapshots of vm taken by job (its
// xo:backup:job is one of jobKeys: the job's id, and its name as an older
// xbr stamped it), oldest first,
// identified as Xen Orchestra does (_fetchJobSnapshots): through the
// snapshot VDIs of the VM's disks whose other_config names the job and the
// VM (and no xo:copy_of), skipping disks attached to several VMs, to a VM
// that is not a snapshot or to a snapshot whose keys differ; then through
// the VM's snapshots, for VMs without disks. Snapshots with an unreadable
// datetime are left out (never pruned).
func FindRolling(ctx context.Context, c *xapi.Client, vm xapi.VMRef, jobKeys ...string) ([]Rolling, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return nil, fmt.Errorf("read VM %s: %w", vm, err)
	}
	f := &finder{c: c, jobs: jobKeys, vmUUID: rec.UUID, groups: map[string]*Rolling{}, seenVM: map[xapi.VMRef]bool{}}
	if err := f.fromDisks(ctx, rec); err != nil {
		return nil, err
	}
	for _, snap := range rec.Snapshots {
		srec, err := c.VMRecord(ctx, snap)
		if xapi.IsCode(err, xapi.CodeHandleInvalid) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", snap, err)
		}
		if f.matches(srec.OtherConfig) {
			f.addVM(snap, srec)
		}
	}
	out := make([]Rolling, 0, len(f.groups))
	for _, g := range f.groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func (f *finder) matches(oc map[string]string) bool {
	_, copy := oc[xotag.KeyCopyOf]
	return slices.Contains(f.jobs, oc[xotag.KeyJob]) && oc[xotag.KeyVM] == f.vmUUID && !copy
}

func (f *finder) group(oc map[string]string) *Rolling {
	at, err := xotag.ParseDatetime(oc[xotag.KeyDatetime])
	if err != nil {
		return nil
	}
	r := Rolling{Schedule: oc[xotag.KeySchedule], Datetime: oc[xotag.KeyDatetime], Time: at}
	g, ok := f.groups[r.ID()]
	if !ok {
		g = &r
		f.groups[r.ID()] = g
	}
	return g
}

func (f *finder) addVM(ref xapi.VMRef, rec xapi.VM) {
	g := f.group(rec.OtherConfig)
	if g == nil || f.seenVM[ref] {
		return
	}
	f.seenVM[ref] = true
	g.VMs = append(g.VMs, ref)
	g.UUIDs = append(g.UUIDs, rec.UUID)
}

// fromDisks walks the snapshot VDIs of the VM's disks.
func (f *finder) fromDisks(ctx context.Context, vm xapi.VM) error {
	for _, vbdRef := range vm.VBDs {
		vbd, err := f.c.VBDRecord(ctx, vbdRef)
		if err != nil {
			return fmt.Errorf("read VBD %s: %w", vbdRef, err)
		}
		if vbd.Type != "Disk" || vbd.Empty || vbd.VDI.IsNull() {
			continue
		}
		disk, err := f.c.VDIRecord(ctx, vbd.VDI)
		if err != nil {
			return fmt.Errorf("read VDI %s: %w", vbd.VDI, err)
		}
		for _, s := range disk.Snapshots {
			if err := f.snapshotVDI(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *finder) snapshotVDI(ctx context.Context, ref xapi.VDIRef) error {
	vdi, err := f.c.VDIRecord(ctx, ref)
	if xapi.IsCode(err, xapi.CodeHandleInvalid) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot VDI %s: %w", ref, err)
	}
	if !f.matches(vdi.OtherConfig) {
		return nil
	}
	owners, err := f.owners(ctx, vdi)
	if err != nil {
		return err
	}
	switch len(owners) {
	case 0:
		if g := f.group(vdi.OtherConfig); g != nil && !slices.Contains(g.VDIs, ref) {
			g.VDIs = append(g.VDIs, ref)
			g.UUIDs = append(g.UUIDs, vdi.UUID)
		}
	case 1:
		for owner, rec := range owners {
			oc, voc := rec.OtherConfig, vdi.OtherConfig
			if rec.IsASnapshot && f.matches(oc) && oc[xotag.KeySchedule] == voc[xotag.KeySchedule] && oc[xotag.KeyDatetime] == voc[xotag.KeyDatetime] {
				f.addVM(owner, rec)
			}
		}
	}
	return nil // attached to several VMs: not a rolling snapshot's disk
}

// owners are the VMs with a VBD on vdi.
func (f *finder) owners(ctx context.Context, vdi xapi.VDI) (map[xapi.VMRef]xapi.VM, error) {
	out := map[xapi.VMRef]xapi.VM{}
	for _, vbdRef := range vdi.VBDs {
		vbd, err := f.c.VBDRecord(ctx, vbdRef)
		if xapi.IsCode(err, xapi.CodeHandleInvalid) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read VBD %s: %w", vbdRef, err)
		}
		if _, ok := out[vbd.VM]; ok || vbd.VM.IsNull() {
			continue
		}
		rec, err := f.c.VMRecord(ctx, vbd.VM)
		if err != nil {
			return nil, fmt.Errorf("read VM %s: %w", vbd.VM, err)
		}
		out[vbd.VM] = rec
	}
	return out, nil
}
