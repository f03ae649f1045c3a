package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/timer"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// The scale-out tests run xbr as it is deployed at scale: a three-node NATS
// JetStream cluster (in the test process), streams and KV buckets with three
// replicas, and one `xbr serve --functions <name>` process per function
// replica. They run in parallel: the worker-kill case waits for JetStream's
// AckWait and the timer case for a minute boundary, both about a minute.

// TestRunSurvivesLosingANATSNode stops the node leading XBR_EVENTS in the
// middle of a run: the run completes (xbr run --wait exits 0) and its
// history is complete.
func TestRunSurvivesLosingANATSNode(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := startPool(t, xapisim.Options{VMs: 4, DiskSize: 16 << 20, Faults: xapisim.Faults{RateLimit: 4 << 20}})
	dirPath, nfs := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", clusterConfig(p, c, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    compression: zstd
    concurrency: 2
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	exp := serveFunctions(t, c, env, cfg, "export")
	prn := serveFunctions(t, c, env, cfg, "prune")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	conn := clusterConn(t, c)
	checkReplicas(t, ctx, conn, 3)

	done := xbrAsync(t, ctx, nil, "run", "nightly", "--wait", "--nats", c.URL())
	testsupport.Eventually(t, time.Minute, "the first export to be under way", func() bool { return tempBytes(dirPath) > 2<<20 })
	leader := streamLeader(t, ctx, c, conn, events.DefaultEventsStream)
	c.Stop(leader)
	t.Logf("stopped node %s, leader of %s", c.ServerName(leader), events.DefaultEventsStream)

	res := <-done
	if res.err != nil || res.code != 0 {
		t.Fatalf("xbr run --wait: exit %d (%v)\n%s\n%s\nexport:\n%s\nprune:\n%s", res.code, res.err,
			res.stdout, res.stderr, exp.output(), prn.output())
	}
	runID := strings.TrimSuffix(strings.Fields(res.stdout)[1], ":")
	checkRunHistory(t, history(t, ctx, conn), runID, p.userVMs())
	for _, vm := range p.userVMs() {
		if bs := listBackups(t, nfs, vm.UUID); len(bs) != 1 {
			t.Errorf("%d backups of %s, want 1", len(bs), vm.NameLabel)
		}
	}
}

// checkRunHistory asserts the history holds, for runID, one export.completed
// per VM and one run.completed with status success.
func checkRunHistory(t *testing.T, hist []events.Received, runID string, vms []xapisim.VMInfo) {
	t.Helper()
	completed := map[string]int{}
	runs := 0
	for _, ev := range hist {
		switch p := ev.Payload.(type) {
		case events.ExportCompleted:
			if p.RunID == runID {
				completed[p.VMUUID]++
			}
		case events.RunCompleted:
			if p.RunID == runID {
				runs++
				if p.Status != events.StatusSuccess || len(p.Results) != len(vms) {
					t.Errorf("run.completed: status %s, %d results; want success, %d", p.Status, len(p.Results), len(vms))
				}
			}
		}
	}
	for _, vm := range vms {
		if completed[vm.UUID] != 1 {
			t.Errorf("history holds %d export.completed for %s in run %s, want 1", completed[vm.UUID], vm.NameLabel, runID)
		}
	}
	if runs != 1 {
		t.Errorf("history holds %d run.completed for run %s, want 1", runs, runID)
	}
}

// TestSecondExportWorkerFinishesAKilledWorkersVM runs two export workers and
// SIGKILLs the one streaming a VM: the other takes the request over once its
// AckWait has passed and the VM ends with exactly one backup from the run.
func TestSecondExportWorkerFinishesAKilledWorkersVM(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 48 << 20, Faults: xapisim.Faults{RateLimit: 4 << 20}})
	dirPath, nfs := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", clusterConfig(p, c, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    compression: none
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	workers := []*server{serveFunctions(t, c, env, cfg, "export"), serveFunctions(t, c, env, cfg, "export")}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--nats", c.URL())
	if code != 0 {
		t.Fatalf("xbr run: exit %d: %s %s", code, out, errOut)
	}
	runID := strings.TrimSuffix(strings.Fields(out)[1], ":")

	var victim, survivor *server
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker 1:\n%s\nworker 2:\n%s", workers[0].output(), workers[1].output())
		}
	})
	testsupport.Eventually(t, time.Minute, "a worker streaming the VM", func() bool {
		for i, w := range workers {
			if holdsTempFile(w.cmd.Process.Pid, dirPath) && tempBytes(dirPath) > 8<<20 {
				victim, survivor = w, workers[1-i]
				return true
			}
		}
		return false
	})
	victim.kill(t) // SIGKILL: no drain, no nak, no cleanup
	p.sim.SetFaults(xapisim.Faults{})

	rc := waitRunCompleted(t, ctx, c.URL(), runID)
	if rc.Status != events.StatusSuccess {
		t.Fatalf("run %s ended %s: %+v\nsurvivor:\n%s", runID, rc.Status, rc, survivor.output())
	}
	vm := p.userVMs()[0]
	var fromRun []catalog.Backup
	for _, b := range listBackups(t, nfs, vm.UUID) {
		m, err := catalog.ReadMetadata(ctx, nfs, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Xbr != nil && m.Xbr.RunID == runID {
			fromRun = append(fromRun, b)
		}
	}
	if len(fromRun) != 1 {
		t.Fatalf("%d complete backups from run %s, want exactly 1", len(fromRun), runID)
	}
	rd, err := nfs.Open(ctx, fromRun[0].ID.DataKey())
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if got, _ := xvaDigests(t, rd); fmt.Sprint(got) != fmt.Sprint(p.diskDigests(t, vm)) {
		t.Error("the backup's disks differ from the source")
	}
	testsupport.Eventually(t, time.Minute, "the killed attempt's snapshot and temp file to be removed", func() bool {
		return len(p.sim.Snapshots()) == 0 && tempBytes(dirPath) == 0
	})
}

// TestThreeTimersFireOncePerSchedule runs three timer processes with four
// every-minute schedules until the next minute boundary has fired: each
// schedule fires once (one schedule.due stored, one process announcing it),
// although every process evaluates every schedule each second.
func TestThreeTimersFireOncePerSchedule(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	var scheds []string
	for i := range 4 {
		scheds = append(scheds, fmt.Sprintf(`      - {name: s%d, cron: "* * * * *", retention: 1}`, i))
	}
	cfg := writeFile(t, "xbr.yaml", clusterConfig(p, c, `  - {name: nfs, type: dir, path: /nonexistent-not-used}`,
		"  - name: minutely\n    pools: [lab]\n    remotes: [nfs]\n    schedules:\n"+strings.Join(scheds, "\n")))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	var timers []*server
	for range 3 {
		timers = append(timers, serveFunctions(t, c, env, cfg, "timer"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	conn := clusterConn(t, c)
	var fires map[string]int
	testsupport.Eventually(t, 90*time.Second, "every schedule to fire at a minute boundary", func() bool {
		fires = fireCounts(t, ctx, conn)
		return len(fires) >= len(scheds)
	})
	last := time.Time{}
	for key := range fires {
		fire, _ := time.Parse(time.RFC3339, key[strings.Index(key, "@")+1:])
		if fire.After(last) {
			last = fire
		}
	}
	// Give every timer time to evaluate past the fire: the shared state
	// records ticks a few seconds after it.
	testsupport.Eventually(t, 30*time.Second, "the timers to evaluate past the fire", func() bool {
		return timerCheckedAfter(t, ctx, conn, "minutely", len(scheds), last.Add(3*time.Second))
	})
	fires = fireCounts(t, ctx, conn)
	for key, n := range fires {
		sched, at, _ := strings.Cut(key, "@")
		fire, err := time.Parse(time.RFC3339, at)
		if err != nil || fire.Second() != 0 {
			t.Errorf("fire %s is not at a minute boundary", key)
			continue
		}
		announced := 0
		for _, tm := range timers {
			announced += logCount(tm, "schedule due", "event_id", timer.FireEventID("minutely", sched, fire))
		}
		if n != 1 || announced != 1 {
			t.Errorf("fire %s: %d schedule.due stored, announced by %d processes; want 1 and 1", key, n, announced)
		}
	}
	if len(fires) < len(scheds) {
		t.Errorf("fires %v: want every one of the %d schedules", fires, len(scheds))
	}
	checkReplicas(t, ctx, conn, 3)
}

// fireCounts counts the stored schedule.due events by "schedule@fire time".
func fireCounts(t *testing.T, ctx context.Context, conn *bus.Conn) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, ev := range history(t, ctx, conn) {
		if d, ok := ev.Payload.(events.ScheduleDue); ok && !d.Manual {
			out[d.Schedule+"@"+d.FireTime.UTC().Format(time.RFC3339)]++
		}
	}
	return out
}

// timerCheckedAfter reports whether the timers' shared state says every one
// of job's n schedules (s0..s<n-1>) was evaluated up to at least at.
func timerCheckedAfter(t *testing.T, ctx context.Context, conn *bus.Conn, job string, n int, at time.Time) bool {
	t.Helper()
	kv, err := conn.JetStream().KeyValue(ctx, timer.StateBucket)
	if err != nil {
		return false
	}
	for i := range n {
		e, err := kv.Get(ctx, events.Token(job)+"."+events.Token(fmt.Sprintf("s%d", i)))
		if err != nil {
			return false
		}
		var st struct {
			Checked time.Time `json:"checked"`
		}
		if json.Unmarshal(e.Value(), &st) != nil || st.Checked.Before(at) {
			return false
		}
	}
	return true
}
