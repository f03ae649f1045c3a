package protection_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/history"
	"xbr/shared/protection"
	"xbr/shared/schedule"
	"xbr/shared/vmselect"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	vmA  = "aaaaaaaa-0000-4000-8000-000000000001"
	vmB  = "bbbbbbbb-0000-4000-8000-000000000002"
	vmC  = "cccccccc-0000-4000-8000-000000000003"
	vmD  = "dddddddd-0000-4000-8000-000000000004"
	gone = "eeeeeeee-0000-4000-8000-000000000005"
)

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func pool(vms ...xapi.VM) []vmselect.Pool {
	p := vmselect.Pool{Name: "lab", VMs: map[xapi.VMRef]xapi.VM{}}
	for i, v := range vms {
		p.VMs[xapi.VMRef("OpaqueRef:"+string(rune('a'+i)))] = v
	}
	return []vmselect.Pool{p}
}

func daily(name, mode string, rpo time.Duration, uuids ...string) config.Job {
	return config.Job{Name: name, Mode: mode, Pools: []string{"lab"}, Remotes: []string{"nfs"}, RPO: rpo,
		VMs: config.VMSelection{UUIDs: uuids}, Target: config.Target{Pool: "standby"},
		Schedules: []config.Schedule{{Name: "daily", Enabled: true, Spec: schedule.MustParse("0 2 * * *"), Location: time.UTC}}}
}

// run is a finished run of job whose VMs ended with the statuses given.
func run(id, job string, end time.Time, status map[string]string) history.Run {
	r := history.Run{Task: history.Task{ID: id, Message: history.KindRun, Status: history.StatusSuccess, Start: end.Add(-time.Minute), End: end}, Job: job}
	for _, u := range []string{vmA, vmB, vmC, vmD} {
		st, ok := status[u]
		if !ok {
			continue
		}
		t := &history.Task{ID: u, Message: history.KindVM, Status: st, End: end, VMUUID: u}
		if st == history.StatusFailure {
			t.Error = "export: connection reset"
		} else {
			t.Tasks = []*history.Task{{ID: "transfer:nfs", Message: history.KindTransfer, Status: st, Remote: "nfs"}}
		}
		r.Tasks = append(r.Tasks, t)
	}
	return r
}

var three = pool(xapi.VM{UUID: vmA, NameLabel: "web"}, xapi.VM{UUID: vmB, NameLabel: "db"}, xapi.VM{UUID: vmC, NameLabel: "scratch"})

func cases() map[string]protection.Input {
	ok := map[string]string{vmA: history.StatusSuccess, vmB: history.StatusSuccess}
	return map[string]protection.Input{
		// The acceptance scenario: 3 VMs, a job selecting 2 by UUID, one run.
		"after_run": {Pools: three, Jobs: []config.Job{daily("nightly", "full", 26*time.Hour, vmA, vmB)},
			Runs: []history.Run{run("r1", "nightly", t0, ok)}, Now: t0.Add(time.Hour)},
		"past_rpo": {Pools: three, Jobs: []config.Job{daily("nightly", "full", 26*time.Hour, vmA, vmB)},
			Runs: []history.Run{run("r1", "nightly", t0, ok)}, Now: t0.Add(27 * time.Hour)},
		"failing": {Pools: three, Jobs: []config.Job{daily("nightly", "full", 26*time.Hour, vmA, vmB)},
			Runs: []history.Run{run("r1", "nightly", t0, ok),
				run("r2", "nightly", t0.Add(24*time.Hour), map[string]string{vmA: history.StatusSuccess, vmB: history.StatusFailure})},
			Now: t0.Add(25 * time.Hour)},
		// A failure followed by a success is ok again; the default RPO of a
		// daily job is 26h.
		"recovered_default_rpo": {Pools: three, Jobs: []config.Job{daily("nightly", "full", 0, vmA, vmB)},
			Runs: []history.Run{run("r2", "nightly", t0.Add(-24*time.Hour), map[string]string{vmB: history.StatusFailure}),
				run("r1", "nightly", t0, ok)},
			Now: t0.Add(25*time.Hour + 59*time.Minute)},
		// xo:no-bak is excluded even when named; a uuid no pool has is
		// missing; a template is not listed; kinds from three jobs.
		"excluded_missing_kinds": {Pools: pool(xapi.VM{UUID: vmA, NameLabel: "web"},
			xapi.VM{UUID: vmB, NameLabel: "db", Tags: []string{"xo:no-bak=scratch data"}},
			xapi.VM{UUID: vmC, NameLabel: "tpl", IsATemplate: true}, xapi.VM{UUID: vmD, NameLabel: "never"}),
			Jobs: []config.Job{daily("nightly", "full", 0, vmA, vmB, gone), daily("snaps", "snapshot", 0, vmA, vmD),
				daily("dr", "replicate", 0, vmA), daily("check", "verify", 0, vmC)},
			Runs: []history.Run{run("r1", "nightly", t0, ok), run("r2", "snaps", t0.Add(time.Hour), map[string]string{vmA: history.StatusSuccess}),
				run("r3", "dr", t0.Add(2*time.Hour), map[string]string{vmA: history.StatusInterrupted})},
			Now: t0.Add(3 * time.Hour)},
	}
}

// TestComputeGolden checks Compute against testdata/<case>.json (refresh
// with -update after checking the change).
func TestComputeGolden(t *testing.T) {
	for name, in := range cases() {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(protection.Compute(in), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file:\n%s", name, got)
			}
		})
	}
}

// TestAcceptanceStates states the acceptance scenario's expectations in
// code, so a golden file refreshed by mistake cannot hide a regression.
func TestAcceptanceStates(t *testing.T) {
	c := cases()
	for name, want := range map[string]map[string]string{
		"after_run":             {vmA: events.ProtectionOK, vmB: events.ProtectionOK, vmC: events.ProtectionUnprotected},
		"past_rpo":              {vmA: events.ProtectionLate, vmB: events.ProtectionLate, vmC: events.ProtectionUnprotected},
		"failing":               {vmA: events.ProtectionOK, vmB: events.ProtectionFailing, vmC: events.ProtectionUnprotected},
		"recovered_default_rpo": {vmA: events.ProtectionOK, vmB: events.ProtectionOK},
		"excluded_missing_kinds": {vmA: events.ProtectionFailing, vmB: events.ProtectionExcluded,
			vmD: events.ProtectionLate, gone: events.ProtectionMissing},
	} {
		got := map[string]string{}
		for _, v := range protection.Compute(c[name]) {
			got[v.UUID] = v.State
		}
		for u, st := range want {
			if got[u] != st {
				t.Errorf("%s: vm %s is %q, want %q", name, u, got[u], st)
			}
		}
		if _, listed := got[vmC]; name == "excluded_missing_kinds" && listed {
			t.Errorf("%s: the template is listed", name)
		}
	}
}

func TestRPO(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) // a Wednesday
	job := func(rpo time.Duration, crons ...string) config.Job {
		j := config.Job{RPO: rpo}
		for _, c := range crons {
			j.Schedules = append(j.Schedules, config.Schedule{Enabled: true, Spec: schedule.MustParse(c)})
		}
		return j
	}
	disabled := job(0, "0 2 * * *")
	disabled.Schedules[0].Enabled = false
	for _, tc := range []struct {
		name string
		job  config.Job
		want time.Duration
	}{
		{"explicit", job(3*time.Hour, "0 2 * * *"), 3 * time.Hour},
		{"daily", job(0, "0 2 * * *"), 26 * time.Hour},
		{"hourly", job(0, "0 * * * *"), 75 * time.Minute},
		{"every minute", job(0, "* * * * *"), 2 * time.Minute},
		{"weekdays: the weekend gap", job(0, "0 2 * * 1-5"), 74 * time.Hour},
		{"two schedules: their union", job(0, "0 2 * * *", "0 14 * * *"), 14 * time.Hour},
		{"monthly", job(0, "0 2 1 * *"), 31*24*time.Hour + 2*time.Hour},
		{"no enabled schedule", disabled, 0},
	} {
		if got := protection.RPO(tc.job, now); got != tc.want {
			t.Errorf("%s: RPO %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFilterAndCounts(t *testing.T) {
	vms := protection.Compute(cases()["failing"])
	if got := protection.Filter(vms, "", []string{events.ProtectionFailing}); len(got) != 1 || got[0].UUID != vmB {
		t.Errorf("filter failing: %+v", got)
	}
	if got := protection.Filter(vms, "other", nil); len(got) != 0 {
		t.Errorf("filter on another pool: %+v", got)
	}
	c := protection.Counts(vms)
	if c[events.ProtectionOK] != 1 || c[events.ProtectionFailing] != 1 || c[events.ProtectionUnprotected] != 1 || c[events.ProtectionLate] != 0 {
		t.Errorf("counts %v", c)
	}
}

// TestRestoredVMIsNew: a VM an xbr restore created (its other_config names
// the restore request) that a job selects has no copy of its own yet; it is
// new, not late, until the job's RPO has passed since the restore ended, and
// ok once a run copied it. A VM whose restore is not in the history, or any
// other VM without a copy, is late as before.
func TestRestoredVMIsNew(t *testing.T) {
	restored := xapi.VM{UUID: vmC, NameLabel: "web (20261201T020000Z)",
		OtherConfig: map[string]string{xotag.KeyRestoreRequest: "req-1"}}
	unknown := xapi.VM{UUID: vmD, NameLabel: "db (restored long ago)",
		OtherConfig: map[string]string{xotag.KeyRestoreRequest: "req-gone"}}
	restore := history.Run{Task: history.Task{ID: "req-1", Message: history.KindRestore, Status: history.StatusSuccess,
		Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour)}}
	job := daily("nightly", "full", 26*time.Hour, vmA, vmC, vmD)
	state := func(now time.Time, runs ...history.Run) map[string]events.ProtectionVM {
		out := map[string]events.ProtectionVM{}
		in := protection.Input{Pools: pool(xapi.VM{UUID: vmA, NameLabel: "web"}, restored, unknown),
			Jobs: []config.Job{job}, Runs: append(runs, restore), Now: now}
		for _, v := range protection.Compute(in) {
			out[v.UUID] = v
		}
		return out
	}
	first := run("r1", "nightly", t0, map[string]string{vmA: history.StatusSuccess})
	got := state(t0.Add(4*time.Hour), first)
	if c := got[vmC]; c.State != events.ProtectionNew || !strings.Contains(c.Reason, "restored") {
		t.Errorf("just restored: %q (%s), want new", c.State, c.Reason)
	}
	if d := got[vmD]; d.State != events.ProtectionLate {
		t.Errorf("restored, the restore not in the history: %q, want late", d.State)
	}
	if c := state(t0.Add(30*time.Hour), first)[vmC]; c.State != events.ProtectionLate {
		t.Errorf("restored 27 h ago, never copied: %q, want late", c.State)
	}
	second := run("r2", "nightly", t0.Add(24*time.Hour), map[string]string{vmA: history.StatusSuccess, vmC: history.StatusSuccess})
	if c := state(t0.Add(25*time.Hour), first, second)[vmC]; c.State != events.ProtectionOK {
		t.Errorf("restored, then copied: %q, want ok", c.State)
	}
}
