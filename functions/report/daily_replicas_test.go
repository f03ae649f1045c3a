package report_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/config"
)

// meeting holds each replica that reaches the protection query until every
// replica has either reached it too or ended its tick without it: a replica
// that loaded the state before the other stored it is then certain to be
// in the query at the same time, so the race is not left to the scheduler.
type meeting struct {
	mu      sync.Mutex
	left    int
	all     chan struct{}
	arrived []sync.Once
}

func newMeeting(replicas int) *meeting {
	return &meeting{left: replicas, all: make(chan struct{}), arrived: make([]sync.Once, replicas)}
}

// arrive counts replica i once.
func (m *meeting) arrive(i int) {
	m.arrived[i].Do(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.left--; m.left == 0 {
			close(m.all)
		}
	})
}

// ask is replica i's protection query: it waits for the others.
func (m *meeting) ask(i int, vms []events.ProtectionVM) func(context.Context) ([]events.ProtectionVM, error) {
	return func(ctx context.Context) ([]events.ProtectionVM, error) {
		m.arrive(i)
		select {
		case <-m.all:
			return vms, nil
		case <-time.After(10 * time.Second):
			return nil, errors.New("the other replica neither asked nor ended its tick")
		}
	}
}

// TestDailyReportTwoReplicasSendOnce: two report functions (two `xbr
// serve` hosts on one NATS) tick the same due fire at the same time, each
// with its own ticker. The operator gets the day's report once, not once
// per replica.
func TestDailyReportTwoReplicasSendOnce(t *testing.T) {
	kv := timerKV(t)
	p := &posts{}
	vms := []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}
	replicas := []*report.Daily{dailyOn(t, kv, config.ReportAlways, vms, p), dailyOn(t, kv, config.ReportAlways, vms, p)}
	ctx := context.Background()
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
	for _, d := range replicas {                          // the first start: nothing caught up
		if err := d.Tick(ctx, eight.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for day := range 5 {
		now := eight.AddDate(0, 0, day).Add(5 * time.Second)
		m := newMeeting(len(replicas))
		var wg sync.WaitGroup
		for i, d := range replicas {
			d.Ask = m.ask(i, vms)
			wg.Go(func() {
				defer m.arrive(i)
				if err := d.Tick(ctx, now); err != nil {
					t.Errorf("day %d, replica %d: %v", day, i, err)
				}
			})
		}
		wg.Wait()
		if got := p.count(); got != day+1 {
			t.Fatalf("day %d: %d reports posted in all, want %d (one a day): %q", day, got, day+1, p.titles)
		}
	}
}

// claimedAt8 is the state a replica leaves when it claimed the 08:00 fire
// (Paris) at claimed and then died before the report went out.
func claimedAt8(claimed time.Time) string {
	return `{"checked":"2026-12-07T06:59:00Z","claim":{"fire":"2026-12-07T07:00:00Z","at":"` +
		claimed.UTC().Format(time.RFC3339) + `","replica":"dead-host"}}`
}

// tickAll ticks d at each time, failing t on an error.
func tickAll(t *testing.T, d *report.Daily, times ...time.Time) {
	t.Helper()
	for _, tm := range times {
		if err := d.Tick(context.Background(), tm); err != nil {
			t.Fatalf("tick %s: %v", tm.Format(time.TimeOnly), err)
		}
	}
}

// TestDailyReportTakesOverAStaleClaim: a replica claimed the fire and died
// before posting. Another replica sends the report once the claim is
// older than DailyClaimStale: the fire is late, not lost.
func TestDailyReportTakesOverAStaleClaim(t *testing.T) {
	kv := timerKV(t)
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
	if _, err := kv.PutString(context.Background(), report.DailyKey, claimedAt8(eight.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	p := &posts{}
	d := dailyOn(t, kv, config.ReportAlways, []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}, p)
	late := eight.Add(10 * time.Minute)
	tickAll(t, d, late, late.Add(5*time.Second), late.Add(10*time.Second))
	if len(p.titles) != 1 || p.titles[0] != "xbr daily report 2026-12-07: all 1 VMs protected" {
		t.Errorf("posted %q, want the 2026-12-07 report once", p.titles)
	}
}

// TestDailyReportRespectsAFreshClaim: while another replica's claim is
// fresh, it may be posting: this one sends nothing and leaves the claim
// as it is, until the claim is DailyClaimStale old.
func TestDailyReportRespectsAFreshClaim(t *testing.T) {
	kv := timerKV(t)
	ctx := context.Background()
	claimed := time.Date(2026, 12, 7, 7, 0, 1, 0, time.UTC)
	if _, err := kv.PutString(ctx, report.DailyKey, claimedAt8(claimed)); err != nil {
		t.Fatal(err)
	}
	p := &posts{}
	d := dailyOn(t, kv, config.ReportAlways, []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}, p)
	tickAll(t, d, claimed.Add(5*time.Second), claimed.Add(report.DailyClaimStale-time.Second))
	if len(p.titles) != 0 {
		t.Errorf("posted %q while another replica's claim was fresh", p.titles)
	}
	if e, err := kv.Get(ctx, report.DailyKey); err != nil || string(e.Value()) != claimedAt8(claimed) {
		t.Errorf("the claim was changed: %v %s", err, e.Value())
	}
	tickAll(t, d, claimed.Add(report.DailyClaimStale))
	if len(p.titles) != 1 {
		t.Errorf("the claim is stale: posted %d reports, want 1", len(p.titles))
	}
}

// TestDailyReportReadsAStateWithoutClaim: the state written before claims
// existed ({"checked": ...}) is read as a fire no replica is sending.
func TestDailyReportReadsAStateWithoutClaim(t *testing.T) {
	kv := timerKV(t)
	if _, err := kv.PutString(context.Background(), report.DailyKey, `{"checked":"2026-12-07T06:59:00Z"}`); err != nil {
		t.Fatal(err)
	}
	p := &posts{}
	d := dailyOn(t, kv, config.ReportAlways, []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}, p)
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)
	tickAll(t, d, eight.Add(5*time.Second), eight.Add(10*time.Second))
	if len(p.titles) != 1 {
		t.Errorf("posted %d reports, want 1", len(p.titles))
	}
}

// TestDailyReportFailedPostLetsAnotherReplicaSend: a replica whose POST
// fails (its host cannot reach the webhook) gives its claim back, so the
// other replica's next tick sends the report, and once only.
func TestDailyReportFailedPostLetsAnotherReplicaSend(t *testing.T) {
	kv := timerKV(t)
	vms := []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}
	failing, working := &posts{}, &posts{}
	a, b := dailyOn(t, kv, config.ReportAlways, vms, failing), dailyOn(t, kv, config.ReportAlways, vms, working)
	ctx := context.Background()
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)
	tickAll(t, a, eight.Add(-time.Minute))
	failing.fail = true
	if err := a.Tick(ctx, eight.Add(5*time.Second)); err == nil {
		t.Fatal("the failed POST: no error")
	}
	tickAll(t, b, eight.Add(7*time.Second))
	tickAll(t, a, eight.Add(10*time.Second))
	if len(failing.titles) != 0 || len(working.titles) != 1 {
		t.Errorf("posted %q and %q, want one report, from the replica whose POST works", failing.titles, working.titles)
	}
}

// TestDailyReportShutdownMidAttempt: the report function is stopped
// (`xbr serve` restarted) during an attempt. Stopped while it asks for the
// protection, its attempt fails and it still gives its claim back; stopped
// just after the POST, it still records the fire as sent. Either way the
// restarted function, a replica with a new id, neither waits
// DailyClaimStale for a claim no one holds nor sends the report again: the
// day's report goes out once, without delay.
func TestDailyReportShutdownMidAttempt(t *testing.T) {
	vms := []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}}
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
	for _, tt := range []struct {
		name    string
		stopped func(d *report.Daily, p *posts, stop func())
	}{
		{"during the query", func(d *report.Daily, _ *posts, stop func()) {
			d.Ask = func(ctx context.Context) ([]events.ProtectionVM, error) {
				stop()
				<-ctx.Done()
				return nil, ctx.Err()
			}
		}},
		{"after the POST", func(d *report.Daily, p *posts, stop func()) {
			d.Post = func(ctx context.Context, m report.Message) error {
				defer stop()
				return p.post(ctx, m)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kv := timerKV(t)
			p := &posts{}
			d := dailyOn(t, kv, config.ReportAlways, vms, p)
			tickAll(t, d, eight.Add(-time.Minute))
			ctx, stop := context.WithCancel(context.Background())
			tt.stopped(d, p, stop)
			_ = d.Tick(ctx, eight.Add(5*time.Second)) // cut short by the shutdown
			restarted := dailyOn(t, kv, config.ReportAlways, vms, p)
			tickAll(t, restarted, eight.Add(10*time.Second))
			if p.count() != 1 {
				e, _ := kv.Get(context.Background(), report.DailyKey)
				t.Fatalf("%d reports once restarted, want 1 at once; state %s", p.count(), e.Value())
			}
			tickAll(t, restarted, eight.Add(10*time.Second+report.DailyClaimStale))
			if p.count() != 1 {
				t.Fatalf("%d reports once a claim would be stale, want 1", p.count())
			}
		})
	}
}
