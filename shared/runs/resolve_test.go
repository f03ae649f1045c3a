package runs_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// simPools logs in to one simulator, named "lab"; other names fail.
type simPools struct {
	url, user, password string
}

func (p simPools) Client(ctx context.Context, pool string) (*xapi.Client, error) {
	if pool != "lab" {
		return nil, errors.New("no pool " + pool)
	}
	c, err := xapi.New(p.url, xapi.WithTaskPoll(5*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return c, c.Login(ctx, p.user, p.password)
}

func startSim(t *testing.T) (*xapisim.Server, simPools) {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{VMs: 3, DiskSize: 64 << 10, DataDir: t.TempDir(), User: "root", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	user, pw := sim.Credentials()
	return sim, simPools{url: url, user: user, password: pw}
}

// TestResolve lists a real (simulated) pool: every ordinary VM is selected;
// a listed VM that does not exist fails at once; a pool that cannot be
// reached is an error naming it.
func TestResolve(t *testing.T) {
	sim, pools := startSim(t)
	var all []string
	for _, v := range sim.VMs() {
		all = append(all, v.UUID)
	}
	sort.Strings(all)
	ctx := context.Background()
	job := config.Job{Name: "nightly", Pools: []string{"lab"}}
	got, err := runs.Resolve(ctx, pools, job)
	if err != nil || !equal(uuids(got), all) || len(all) != 3 {
		t.Fatalf("Resolve = %v, %v, want the simulator's VMs %v", uuids(got), err, all)
	}
	missing := "00000000-0000-4000-8000-00000000dead"
	job.VMs.UUIDs = []string{all[1], missing}
	got, err = runs.Resolve(ctx, pools, job)
	if err != nil || len(got) != 2 || got[0].UUID != all[1] || got[0].Result != nil ||
		got[1].Result == nil || got[1].Result.Status != events.StatusFailure || got[1].Pool != "unknown" {
		t.Fatalf("Resolve of listed VMs = %+v, %v, want %s to do and %s failed", got, err, all[1], missing)
	}
	job.Pools = []string{"lab", "far"}
	if _, err := runs.Resolve(ctx, pools, job); err == nil || !strings.Contains(err.Error(), "resolve VMs: no pool far") {
		t.Fatalf("Resolve of an unreachable pool: %v", err)
	}
}

func uuids(vms []runs.VM) []string {
	var out []string
	for _, v := range vms {
		out = append(out, v.UUID)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }
