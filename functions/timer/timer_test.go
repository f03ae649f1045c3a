package timer_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/functions/timer"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/testsupport"
)

type harness struct {
	conn     *bus.Conn
	subjects events.Subjects
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{conn: testsupport.StartNATS(t)}
}

func jobs(t *testing.T, schedules string) []config.Job {
	t.Helper()
	doc := fmt.Sprintf(`pools: [{name: lab, url: "http://127.0.0.1:1", username: root, password: x}]
remotes: [{name: local, type: dir, path: /tmp}]
jobs:
  - name: nightly
    pools: [lab]
    remotes: [local]
    schedules:
%s`, schedules)
	c, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c.Jobs
}

func (h *harness) timer(t *testing.T, js []config.Job, catchUp time.Duration) *timer.Timer {
	t.Helper()
	return h.timerAt(t, js, catchUp, time.Now())
}

// timerAt is a timer started at start.
func (h *harness) timerAt(t *testing.T, js []config.Job, catchUp time.Duration, start time.Time) *timer.Timer {
	t.Helper()
	tm, err := timer.New(context.Background(), h.conn, h.subjects, js, timer.Options{CatchUp: catchUp,
		Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// fires returns the fire times of every schedule.due stored in the stream.
func (h *harness) fires(t *testing.T) []time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.conn.JetStream().Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(h.subjects.Filter(events.TypeScheduleDue)))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	w, err := h.conn.Watch(ctx, bus.WatchOptions{Subjects: []string{h.subjects.Filter(events.TypeScheduleDue)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var out []time.Time
	for uint64(len(out)) < n {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("reading fire %d of %d: %v", len(out)+1, n, err)
		}
		p, err := events.PayloadAs[events.ScheduleDue](r.Event)
		if err != nil {
			t.Fatal(err)
		}
		if r.Event.Event.ID() != p.RunID {
			t.Errorf("event id %s differs from run id %s", r.Event.Event.ID(), p.RunID)
		}
		if want := "xbr.schedule.due.full.nightly." + p.Schedule; p.Mode != config.ModeFull || r.Event.Subject != want {
			t.Errorf("fire of mode %q on %s, want the job's mode full, on %s", p.Mode, r.Event.Subject, want)
		}
		out = append(out, p.FireTime)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func tick(t *testing.T, tm *timer.Timer, now time.Time) {
	t.Helper()
	if err := tm.Tick(context.Background(), now); err != nil {
		t.Fatal(err)
	}
}

func TestThreeReplicasPublishOneEventPerFire(t *testing.T) {
	h := newHarness(t)
	js := jobs(t, `      - {name: minutely, cron: "* * * * *", timezone: Europe/Paris, retention: 1}`)
	replicas := []*timer.Timer{h.timer(t, js, time.Hour), h.timer(t, js, time.Hour), h.timer(t, js, time.Hour)}
	start := time.Date(2026, 6, 1, 10, 0, 30, 0, time.UTC)
	// Each replica ticks every 20 s with its own phase, over 100 minutes.
	for step := 0; step <= 100*3; step++ {
		base := start.Add(time.Duration(step) * 20 * time.Second)
		for i, r := range replicas {
			tick(t, r, base.Add(time.Duration(i)*7*time.Second))
		}
	}
	got := h.fires(t)
	if len(got) != 100 {
		t.Fatalf("%d schedule.due events for 100 fires", len(got))
	}
	for i, f := range got {
		if want := start.Truncate(time.Minute).Add(time.Duration(i+1) * time.Minute); !f.Equal(want) {
			t.Fatalf("fire %d at %s, want %s", i, f, want)
		}
	}
}

func TestDaylightSavingDaysFireOnce(t *testing.T) {
	cases := []struct {
		name, cron, tz string
		from           time.Time
		want           []time.Time
	}{
		{"Paris spring forward: 02:30 does not exist, fires 03:00 CEST", "30 2 * * *", "Europe/Paris",
			time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC)}},
		{"Paris fall back: 02:30 happens twice, fires at the first", "30 2 * * *", "Europe/Paris",
			time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 26, 1, 30, 0, 0, time.UTC)}},
		{"New York spring forward: 02:30 does not exist, fires 03:00 EDT", "30 2 * * *", "America/New_York",
			time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 6, 30, 0, 0, time.UTC)}},
		{"New York fall back: 01:30 happens twice, fires at the first", "30 1 * * *", "America/New_York",
			time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			js := jobs(t, fmt.Sprintf(`      - {name: daily, cron: %q, timezone: %s, retention: 1}`, c.cron, c.tz))
			a, b := h.timer(t, js, time.Hour), h.timer(t, js, time.Hour)
			for now := c.from; now.Before(c.from.Add(48 * time.Hour)); now = now.Add(5 * time.Minute) {
				tick(t, a, now)
				tick(t, b, now.Add(2*time.Minute))
			}
			got := h.fires(t)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("fires %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestCatchUpAfterDowntime(t *testing.T) {
	cases := []struct {
		name, cron string
		last, now  time.Time
		want       []time.Time
	}{
		{"missed fires inside the window coalesce into one", "*/10 * * * *",
			time.Date(2026, 6, 1, 10, 1, 0, 0, time.UTC), time.Date(2026, 6, 1, 10, 45, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 6, 1, 10, 40, 0, 0, time.UTC)}},
		{"only the fires inside the window count", "0 * * * *",
			time.Date(2026, 6, 1, 10, 5, 0, 0, time.UTC), time.Date(2026, 6, 1, 13, 10, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)}},
		{"a fire older than the window is dropped", "0 2 * * *",
			time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 5, 0, 0, 0, time.UTC),
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			js := jobs(t, fmt.Sprintf(`      - {name: s, cron: %q, timezone: UTC, retention: 1}`, c.cron))
			tick(t, h.timer(t, js, time.Hour), c.last) // the timer ran until last, then stopped
			tick(t, h.timer(t, js, time.Hour), c.now)  // a new process after the downtime
			if got := h.fires(t); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("fires %v, want %v", got, c.want)
			}
		})
	}
}

func TestDisabledScheduleNeverFires(t *testing.T) {
	h := newHarness(t)
	js := jobs(t, `      - {name: off, cron: "* * * * *", enabled: false, retention: 1}
      - {name: on, cron: "0 * * * *", retention: 1}`)
	tm := h.timer(t, js, time.Hour)
	start := time.Date(2026, 6, 1, 0, 0, 30, 0, time.UTC)
	for i := 0; i < 12*3; i++ {
		tick(t, tm, start.Add(time.Duration(i)*5*time.Minute))
	}
	got := h.fires(t)
	if len(got) != 2 { // 01:00 and 02:00 from "on"; nothing from "off"
		t.Fatalf("fires %v, want the two hourly fires only", got)
	}
}

// A schedule taken out of the configuration and put back (a rename reverted,
// a job removed for a maintenance and restored) starts afresh: the fire that
// came while it was absent is not caught up, so no job runs twice for one
// fire or runs for a fire at which it was not configured.
func TestScheduleBackInTheConfigurationDoesNotCatchUp(t *testing.T) {
	h := newHarness(t)
	daily := jobs(t, `      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 1}`)
	renamed := jobs(t, `      - {name: renamed, cron: "0 2 * * *", timezone: UTC, retention: 1}`)
	at := func(hour, minute int, second ...int) time.Time {
		return time.Date(2026, 6, 1, hour, minute, append(second, 0)[0], 0, time.UTC)
	}
	tick(t, h.timerAt(t, daily, time.Hour, at(1, 0)), at(1, 29, 59)) // ticked until its restart, a second later
	kv, err := h.conn.JetStream().KeyValue(context.Background(), timer.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), "report/daily", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	renamedTimer := h.timerAt(t, renamed, time.Hour, at(1, 30)) // restarted with the schedule renamed
	for _, now := range []time.Time{at(1, 30), at(2, 0), at(2, 10)} {
		tick(t, renamedTimer, now)
	}
	tick(t, h.timerAt(t, daily, time.Hour, at(2, 30)), at(2, 30)) // the rename reverted
	if got, want := h.fires(t), []time.Time{at(2, 0)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fires %v, want only the renamed schedule's %v", got, want)
	}
	if _, err := kv.Get(context.Background(), "report/daily"); err != nil {
		t.Fatalf("the daily report's state: %v, want it kept", err)
	}
}

// A replica that starts on an older configuration (a rollout in progress, a
// restart of a host whose file was not updated yet) does not know a schedule
// the others tick: it leaves that schedule's state alone, so the others
// neither lose the fire due meanwhile nor, after a downtime, its catch-up.
func TestReplicaOnAnOlderConfigurationKeepsTheStateOthersTick(t *testing.T) {
	h := newHarness(t)
	current := jobs(t, `      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 1}`)
	older := jobs(t, `      - {name: weekly, cron: "0 3 * * 0", timezone: UTC, retention: 1}`)
	at := func(hour, minute, second int) time.Time {
		return time.Date(2026, 6, 1, hour, minute, second, 0, time.UTC)
	}
	replica := h.timerAt(t, current, time.Hour, at(1, 0, 0))
	tick(t, replica, at(1, 59, 59))
	h.timerAt(t, older, time.Hour, at(2, 0, 0)) // starts while the other ticks every second
	tick(t, replica, at(2, 0, 1))
	if got, want := h.fires(t), []time.Time{at(2, 0, 0)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fires %v, want the daily fire %v", got, want)
	}
}
