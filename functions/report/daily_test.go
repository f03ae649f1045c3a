package report_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/config"
	"xbr/shared/schedule"
	"xbr/shared/testsupport"
)

// posts records what the daily report posted; fail makes the next post fail.
// Replicas may post through one posts at once.
type posts struct {
	mu             sync.Mutex
	titles, bodies []string
	fail           bool
}

func (p *posts) post(_ context.Context, m report.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		p.fail = false
		return errors.New("report webhook: HTTP 500")
	}
	p.titles, p.bodies = append(p.titles, m.Title), append(p.bodies, m.Body)
	return nil
}

func (p *posts) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.titles)
}

func dailyAt8(t *testing.T, when string, vms []events.ProtectionVM) (*report.Daily, *posts) {
	t.Helper()
	p := &posts{}
	return dailyOn(t, timerKV(t), when, vms, p), p
}

// timerKV is the timer's state bucket on a new embedded NATS.
func timerKV(t *testing.T) jetstream.KeyValue {
	t.Helper()
	conn := testsupport.StartNATS(t)
	kv, err := conn.EnsureKV(context.Background(), jetstream.KeyValueConfig{Bucket: events.BucketTimer})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// dailyOn is a daily report at 08:00 in Paris keeping its state in kv and
// posting to p: several on one kv are replicas of the report function.
func dailyOn(t *testing.T, kv jetstream.KeyValue, when string, vms []events.ProtectionVM, p *posts) *report.Daily {
	t.Helper()
	spec, err := schedule.Parse("0 8 * * *")
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	return &report.Daily{Config: config.DailyReport{Spec: spec, Location: paris, When: when}, KV: kv, Post: p.post,
		Ask: func(context.Context) ([]events.ProtectionVM, error) { return vms, nil }}
}

func TestDailyReportFiresOncePerDay(t *testing.T) {
	vms := []events.ProtectionVM{
		{Pool: "lab", UUID: "aaaa", Name: "web", State: events.ProtectionOK, AgeSeconds: 3600},
		{Pool: "lab", UUID: "bbbb", Name: "db", State: events.ProtectionLate, AgeSeconds: 100000, Reason: "job nightly: no success within its RPO 26h0m0s"},
	}
	d, p := dailyAt8(t, config.ReportAlways, vms)
	ctx := context.Background()
	at := func(hhmmss string) time.Time { // Paris is UTC+1 in December
		tm, _ := time.Parse("2006-01-02 15:04:05", "2026-12-07 "+hhmmss)
		return tm.Add(-time.Hour)
	}
	p.fail = true
	for i, tick := range []string{"07:59:50", "07:59:55", "08:00:00", "08:00:05", "08:00:10", "09:00:00"} {
		err := d.Tick(ctx, at(tick))
		if (err != nil) != (i == 2) { // the first post fails: retried on the next tick
			t.Errorf("tick %s: err = %v", tick, err)
		}
	}
	if len(p.titles) != 1 {
		t.Fatalf("posted %d reports, want 1: %q", len(p.titles), p.titles)
	}
	if p.titles[0] != "xbr daily report 2026-12-07: 1 of 2 VMs need attention" {
		t.Errorf("title %q", p.titles[0])
	}
	if !strings.Contains(p.bodies[0], "- late db (pool lab)") || strings.Contains(p.bodies[0], "web") {
		t.Errorf("body:\n%s", p.bodies[0])
	}
	if err := d.Tick(ctx, at("08:00:00").Add(24*time.Hour+time.Second)); err != nil || len(p.titles) != 2 {
		t.Errorf("the next day: err %v, %d reports", err, len(p.titles))
	}
}

func TestDailyReportWhenFailureSkipsAllGood(t *testing.T) {
	d, p := dailyAt8(t, config.ReportFailure, []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}})
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 6, 59, 0, 0, time.UTC)
	for _, tm := range []time.Time{t0, t0.Add(2 * time.Minute)} {
		if err := d.Tick(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.titles) != 0 {
		t.Errorf("when failure, all ok: posted %q", p.titles)
	}
	if title, n := report.DailyTitle([]events.ProtectionVM{{State: events.ProtectionOK}}, t0); n != 0 || title != "xbr daily report 2026-12-07: all 1 VMs protected" {
		t.Errorf("DailyTitle = %q, %d", title, n)
	}
}

// TestDailyReportClockStepBackDoesNotRepeat: a clock stepped back (an NTP
// correction, a report function restarted on a host a few seconds behind)
// must not move the evaluated-up-to time back: the fire already sent would
// come due again and the day's report be posted twice. The timer keeps its
// state for the same reason.
func TestDailyReportClockStepBackDoesNotRepeat(t *testing.T) {
	d, p := dailyAt8(t, config.ReportAlways, []events.ProtectionVM{{Pool: "lab", UUID: "aaaa", State: events.ProtectionOK}})
	ctx := context.Background()
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
	for _, tm := range []time.Time{eight.Add(-5 * time.Second), eight.Add(5 * time.Second),
		eight.Add(-3 * time.Second), eight.Add(time.Second), eight.Add(10 * time.Second)} {
		if err := d.Tick(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.titles) != 1 {
		t.Errorf("posted %d reports for one fire: %q", len(p.titles), p.titles)
	}
}
