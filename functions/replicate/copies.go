package replicate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// xbr's other_config keys on a replicated copy, besides Xen Orchestra's
// (shared/xotag: xo:backup:job|schedule|vm|datetime|sr and xbr:backup:run).
const (
	KeyBytes      = "xbr:bytes"       // bytes streamed (as sent by XAPI)
	KeyDurationMS = "xbr:duration_ms" // transfer duration
	KeyCompleted  = "xbr:completed"   // when the copy completed, RFC 3339
)

// Tag and block reason of a copy.
const (
	// TagDR marks full-replication copies.
	TagDR = "Disaster Recovery"
	// TagHADisabled marks a copy whose source VM was protected by HA: the
	// copy is not (ha_restart_priority ""), as in Xen Orchestra.
	TagHADisabled = "HA disabled"
	// BlockReason is why start and start_on are blocked on a copy.
	BlockReason = "Start blocked by xbr: this is a Disaster Recovery copy; run 'xbr dr failover' to start it"
)

// blockedOps are the operations blocked on a copy.
var blockedOps = []string{"start", "start_on"}

// Copy is a VM on a standby pool made by a replicate job: what it records
// of itself (events.CopyRecord, the dr.ls query's form) and its reference.
type Copy struct {
	events.CopyRecord
	Ref       xapi.VMRef `json:"-"`
	importing bool
}

// Complete reports whether the transfer of the copy completed.
func (c Copy) Complete() bool { return c.SR != "" }

// Standby reports whether c counts for retention: complete and still
// start-blocked (a copy that was failed over is never pruned).
func (c Copy) Standby() bool { return c.Complete() && c.StartBlocked }

// ListCopies returns the copies on the pool of c (complete or not), oldest
// recovery point first. VMs without the job and VM keys, snapshots and
// templates are not copies.
func ListCopies(ctx context.Context, c *xapi.Client) ([]Copy, error) {
	vms, err := c.CachedVMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list copies: %w", err)
	}
	var out []Copy
	for ref, vm := range vms {
		if cp, ok := copyOf(ref, vm); ok {
			out = append(out, cp)
		}
	}
	sortCopies(out)
	return out, nil
}

func sortCopies(cs []Copy) {
	slices.SortFunc(cs, func(a, b Copy) int {
		if c := a.Datetime.Compare(b.Datetime); c != 0 {
			return c
		}
		return strings.Compare(a.UUID, b.UUID)
	})
}

// copyOf reads a VM record as a copy.
func copyOf(ref xapi.VMRef, vm xapi.VM) (Copy, bool) {
	oc := vm.OtherConfig
	if vm.IsASnapshot || vm.IsControlDomain || vm.IsATemplate || oc[xotag.KeyJob] == "" || oc[xotag.KeyVM] == "" {
		return Copy{}, false
	}
	_, blocked := vm.BlockedOperations["start"]
	c := Copy{Ref: ref, importing: slices.Contains(mapValues(vm.CurrentOperations), "import")}
	c.CopyRecord = events.CopyRecord{UUID: vm.UUID, Name: vm.NameLabel, VMUUID: oc[xotag.KeyVM],
		Job: cmp.Or(oc[xotag.KeyJobName], oc[xotag.KeyJob]), Schedule: cmp.Or(oc[xotag.KeyScheduleName], oc[xotag.KeySchedule]),
		JobID: oc[xotag.KeyJob], ScheduleID: oc[xotag.KeySchedule], SR: oc[xotag.KeySR], Run: oc[xotag.KeyRun], PowerState: string(vm.PowerState),
		StartBlocked: blocked}
	c.Datetime, _ = xotag.ParseDatetime(oc[xotag.KeyDatetime])
	if c.Datetime.IsZero() {
		c.Datetime = nameStamp(vm.NameLabel)
	}
	c.VMName = sourceName(vm.NameLabel, c.Job)
	c.Bytes, _ = strconv.ParseInt(oc[KeyBytes], 10, 64)
	c.DurationMS, _ = strconv.ParseInt(oc[KeyDurationMS], 10, 64)
	c.Completed, _ = time.Parse(time.RFC3339Nano, oc[KeyCompleted])
	return c, true
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// CopyName is the name of a copy: "<vm> - <job> - (<stamp>)".
func CopyName(vmName, job string, t time.Time) string {
	return fmt.Sprintf("%s - %s - (%s)", vmName, job, t.UTC().Format(xotag.StampLayout))
}

// nameStamp is the "(<stamp>)" at the end of a copy's name (XO's fallback
// when xo:backup:datetime is missing); zero when there is none.
func nameStamp(name string) time.Time {
	i := strings.LastIndex(name, "(")
	if i < 0 || !strings.HasSuffix(name, ")") {
		return time.Time{}
	}
	t, err := time.Parse(xotag.StampLayout, name[i+1:len(name)-1])
	if err != nil {
		return time.Time{}
	}
	return t
}

// sourceName is the VM name in a copy's name, "" when the name is not a
// copy name of job.
func sourceName(name, job string) string {
	i := strings.LastIndex(name, " - "+job+" - (")
	if i <= 0 || nameStamp(name).IsZero() {
		return ""
	}
	return name[:i]
}
