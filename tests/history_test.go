package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// historyRun is the part of `xbr history --json` these tests read.
type historyRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Job    string `json:"job"`
	Tasks  []struct {
		Status string `json:"status"`
		VMUUID string `json:"vm_uuid"`
		Error  string `json:"error"`
	} `json:"tasks"`
	Rates []struct {
		Bytes int64 `json:"bytes"`
	} `json:"rates"`
}

func historyOf(t *testing.T, ctx context.Context, url string, args ...string) []historyRun {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, append([]string{"history", "--json", "--rates", "--nats", url}, args...)...)
	if code != 0 {
		t.Fatalf("xbr history: exit %d: %s", code, errOut)
	}
	var runs []historyRun
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("xbr history --json: %v\n%s", err, out)
	}
	return runs
}

// TestHistoryKilledRunIsInterrupted kills `xbr serve` in the middle of an
// export and restarts it without the export function: the run never ends,
// and the history, rebuilt from the stream, shows it interrupted once it
// has been quiet for --stale-after; a second fire during the run is skipped.
func TestHistoryKilledRunIsInterrupted(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 96 << 20, Faults: xapisim.Faults{RateLimit: 6 << 20}})
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	data := t.TempDir()
	args := []string{"--config", cfg, "--data-dir", data, "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	s := startServe(t, env, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runID := runNow(t, ctx, s.natsURL(t))
	testsupport.Eventually(t, time.Minute, "a progress sample of the export", func() bool {
		runs := historyOf(t, ctx, s.natsURL(t), "--run", runID)
		return len(runs) == 1 && len(runs[0].Rates) > 0 && runs[0].Status == "pending"
	})
	second := runNow(t, ctx, s.natsURL(t))
	testsupport.Eventually(t, time.Minute, "the second fire to be skipped", func() bool {
		runs := historyOf(t, ctx, s.natsURL(t), "--run", second)
		return len(runs) == 1 && runs[0].Status == "skipped"
	})
	s.kill(t) // SIGKILL: no run.completed will ever come from this process

	s2 := startServe(t, env, append(args, "--functions", "timer")...)
	url := s2.natsURL(t)
	runs := historyOf(t, ctx, url, "--run", runID)
	if len(runs) != 1 || runs[0].Status != "pending" || len(runs[0].Rates) == 0 {
		t.Fatalf("killed run right after restart: %+v, want pending with progress samples", runs)
	}
	var got historyRun
	testsupport.Eventually(t, time.Minute, "the killed run to be interrupted", func() bool {
		got = historyOf(t, ctx, url, "--run", runID, "--stale-after", "2s")[0]
		return got.Status == "interrupted"
	})
	if !strings.Contains(got.Reason, "went away") || len(got.Tasks) != 1 || got.Tasks[0].Status != "interrupted" {
		t.Errorf("interrupted run = %+v", got)
	}
	skipped := historyOf(t, ctx, url, "--run", second)[0]
	if skipped.Status != "skipped" || !strings.Contains(skipped.Reason, runID) {
		t.Errorf("second fire = %+v, want skipped because run %s was running", skipped, runID)
	}
	all := historyOf(t, ctx, url, "--job", "nightly")
	if len(all) != 2 || all[0].ID != second {
		t.Errorf("history of the job: %d runs, newest %q; want 2, newest %s", len(all), all[0].ID, second)
	}
}

func runNow(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--nats", url)
	if code != 0 {
		t.Fatalf("xbr run: exit %d: %s %s", code, out, errOut)
	}
	return strings.TrimSuffix(strings.Fields(out)[1], ":")
}
