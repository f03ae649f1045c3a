package protection

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/history"
	"xbr/shared/vmselect"
	"xbr/shared/xotag"
)

// Input is everything Compute reads.
type Input struct {
	Pools []vmselect.Pool // every configured pool's VM records
	Jobs  []config.Job
	Runs  []history.Run
	Now   time.Time
}

// vmRow is a VM being computed.
type vmRow struct {
	events.ProtectionVM
	rank int
	// restored is when the xbr restore that created the VM ended (zero: not
	// one, or its restore is no longer in the history).
	restored time.Time
}

// Compute is every VM's protection at in.Now, worst state first, then
// oldest copy first, then by pool, name and UUID.
func Compute(in Input) []events.ProtectionVM {
	jobs := protecting(in.Jobs)
	restores := restoresEnded(in.Runs)
	rows := map[string]*vmRow{} // by lower-case uuid
	var order []string
	for _, p := range in.Pools {
		for _, vm := range p.VMs {
			if vmselect.NotAVM(vm) != "" { // a copy is the protection of the VM it copies
				continue
			}
			u := strings.ToLower(vm.UUID)
			rows[u] = &vmRow{ProtectionVM: events.ProtectionVM{Pool: p.Name, UUID: vm.UUID, Name: vm.NameLabel,
				State: events.ProtectionUnprotected, Reason: "no backup, snapshot or replicate job selects it", AgeSeconds: -1}}
			if tag := vmselect.NoBackup(vm); tag != "" {
				rows[u].State, rows[u].Reason = events.ProtectionExcluded, "tagged "+tag
			}
			if req := vm.OtherConfig[xotag.KeyRestoreRequest]; req != "" {
				rows[u].restored = restores[req]
			}
			order = append(order, u)
		}
	}
	found := outcomes(in.Runs, jobs)
	for _, j := range in.Jobs {
		if _, ok := jobs[j.Name]; ok {
			order = apply(j, in, rows, order, found)
		}
	}
	out := make([]events.ProtectionVM, 0, len(order))
	for _, u := range order {
		out = append(out, rows[u].ProtectionVM)
	}
	slices.SortFunc(out, compare)
	return out
}

// apply judges the VMs job j selects and returns order with the missing
// ones it names added.
func apply(j config.Job, in Input, rows map[string]*vmRow, order []string, found map[key]*outcome) []string {
	res := vmselect.Select(j.VMs, poolsOf(j, in.Pools))
	rpo := RPO(j, in.Now)
	for _, v := range res.VMs {
		r := rows[strings.ToLower(v.UUID)]
		if r == nil {
			continue
		}
		judge(r, j, rpo, found[key{j.Name, strings.ToLower(v.UUID)}], in.Now)
	}
	for _, rej := range res.Rejected {
		if rej.Pool != "" {
			continue // found, but ineligible: shown by its own row
		}
		u := strings.ToLower(rej.UUID)
		r := rows[u]
		if r == nil {
			r = &vmRow{ProtectionVM: events.ProtectionVM{UUID: rej.UUID, State: events.ProtectionMissing, AgeSeconds: -1}}
			rows[u] = r
			order = append(order, u)
		}
		if r.State == events.ProtectionUnprotected { // listed in a pool the job does not cover (migrated)
			r.State, r.rank, r.Jobs = events.ProtectionMissing, rankOf(events.ProtectionMissing), nil
		}
		if r.State == events.ProtectionMissing {
			r.Jobs = append(r.Jobs, j.Name)
			r.Reason = "named by job " + strings.Join(r.Jobs, ", ") + "; no VM with this uuid in pools " + strings.Join(j.Pools, ", ")
			if r.Pool != "" {
				r.Reason += " (it is in pool " + r.Pool + ")"
			}
		}
	}
	return order
}

// judge folds job j's verdict on a VM into its row.
func judge(r *vmRow, j config.Job, rpo time.Duration, o *outcome, now time.Time) {
	if r.State == events.ProtectionExcluded || r.State == events.ProtectionMissing {
		return
	}
	if r.State == events.ProtectionUnprotected {
		r.State, r.Reason, r.rank = events.ProtectionOK, "", rankOf(events.ProtectionOK)
	}
	r.Jobs = append(r.Jobs, j.Name)
	if rpo > 0 && (r.RPOSeconds == 0 || int64(rpo.Seconds()) < r.RPOSeconds) {
		r.RPOSeconds = int64(rpo.Seconds())
	}
	state, reason := verdict(j, rpo, o, now, r.restored)
	if o != nil && !o.ok.IsZero() {
		at := o.where
		if at == "" {
			at = "pool " + r.Pool
		}
		r.Last = append(r.Last, events.LastCopy{Kind: KindOf(j.Mode), Job: j.Name, At: o.ok, Where: at, Run: o.okRun})
		if age := int64(now.Sub(o.ok).Seconds()); r.AgeSeconds < 0 || age < r.AgeSeconds {
			r.AgeSeconds = age
		}
	}
	if rk := rankOf(state); rk < r.rank {
		r.State, r.Reason, r.rank = state, reason, rk
	}
}

// verdict is one job's state for a VM it selects, and why; restored is
// when the xbr restore that created the VM ended (zero if not known).
func verdict(j config.Job, rpo time.Duration, o *outcome, now, restored time.Time) (string, string) {
	switch {
	case o != nil && !o.failed.IsZero() && o.failed.After(o.ok):
		return events.ProtectionFailing, "job " + j.Name + ": last attempt failed at " +
			o.failed.Format(time.RFC3339) + ": " + o.err
	case (o == nil || o.ok.IsZero()) && !restored.IsZero() && rpo > 0 && now.Sub(restored) <= rpo:
		return events.ProtectionNew, "restored at " + restored.UTC().Format(time.RFC3339) + "; job " + j.Name +
			" takes its first copy within its RPO " + rpo.String() + ", by " + restored.Add(rpo).UTC().Format(time.RFC3339)
	case o == nil || o.ok.IsZero():
		return events.ProtectionLate, "job " + j.Name + ": no successful copy yet"
	case rpo > 0 && now.Sub(o.ok) > rpo:
		return events.ProtectionLate, "job " + j.Name + ": last success " + o.ok.Format(time.RFC3339) +
			" is older than its RPO " + rpo.String()
	}
	return events.ProtectionOK, ""
}

// restoresEnded are the end times of the successful restores in runs, by
// request id (a restored VM's xotag.KeyRestoreRequest).
func restoresEnded(runs []history.Run) map[string]time.Time {
	out := map[string]time.Time{}
	for _, r := range runs {
		if r.Message == history.KindRestore && r.Status == history.StatusSuccess && !r.End.IsZero() {
			out[r.ID] = r.End
		}
	}
	return out
}

// protecting are the jobs that make copies of VMs, by name.
func protecting(jobs []config.Job) map[string]config.Job {
	out := map[string]config.Job{}
	for _, j := range jobs {
		if KindOf(j.Mode) != "" {
			out[j.Name] = j
		}
	}
	return out
}

func poolsOf(j config.Job, pools []vmselect.Pool) []vmselect.Pool {
	var out []vmselect.Pool
	for _, p := range pools {
		if slices.Contains(j.Pools, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

func rankOf(state string) int {
	if i := slices.Index(events.ProtectionStates(), state); i >= 0 {
		return i
	}
	return len(events.ProtectionStates())
}

// compare orders worst state first, then oldest copy (none first), pool,
// name, uuid.
func compare(a, b events.ProtectionVM) int {
	return cmp.Or(cmp.Compare(rankOf(a.State), rankOf(b.State)), ageOrder(a.AgeSeconds, b.AgeSeconds),
		cmp.Compare(a.Pool, b.Pool), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UUID, b.UUID))
}

func ageOrder(a, b int64) int {
	if a < 0 {
		a = 1<<62 - 1
	}
	if b < 0 {
		b = 1<<62 - 1
	}
	return cmp.Compare(b, a)
}

// Filter keeps the VMs of pool (any when "") whose state is in states (any
// when empty).
func Filter(vms []events.ProtectionVM, pool string, states []string) []events.ProtectionVM {
	out := []events.ProtectionVM{}
	for _, v := range vms {
		if (pool == "" || v.Pool == pool) && (len(states) == 0 || slices.Contains(states, v.State)) {
			out = append(out, v)
		}
	}
	return out
}

// Counts is the number of VMs per state, every state present.
func Counts(vms []events.ProtectionVM) map[string]int {
	out := map[string]int{}
	for _, s := range events.ProtectionStates() {
		out[s] = 0
	}
	for _, v := range vms {
		out[v.State]++
	}
	return out
}
