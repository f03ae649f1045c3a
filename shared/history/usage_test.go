package history_test

import (
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

func TestUsageKeepsTheNewestPerDay(t *testing.T) {
	free := int64(900)
	u := func(used int64, f *int64) events.RemoteUsage {
		return events.RemoteUsage{RunID: run1, Job: "nightly", Remote: "nfs", UsedBytes: used, Objects: 1, FreeBytes: f}
	}
	day := 24 * time.Hour
	list := build(t, []stamped{
		{2 * day, u(300, nil)},
		{0, u(100, &free)},
		{time.Hour, u(150, &free)},
		{30 * time.Minute, u(120, &free)}, // older than the 01:00 one of the same day
		{2*day + time.Hour, u(280, nil)},
	})
	p := history.New(history.Options{})
	for _, r := range append(list, list...) { // applied twice: the same
		p.Apply(r)
	}
	got := p.Usage("nfs")
	want := []history.UsagePoint{{At: t0.Add(time.Hour), UsedBytes: 150, FreeBytes: 900},
		{At: t0.Add(2*day + time.Hour), UsedBytes: 280, FreeBytes: -1}}
	if len(got) != len(want) {
		t.Fatalf("Usage = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].UsedBytes != want[i].UsedBytes || got[i].FreeBytes != want[i].FreeBytes {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(p.Runs()) != 0 || len(p.Usage("other")) != 0 {
		t.Errorf("usage made runs %v or points of another remote", p.Runs())
	}
	for i := range history.UsageDaysKept + 5 {
		p.Apply(build(t, []stamped{{time.Duration(i+10) * day, u(int64(i), nil)}})[0])
	}
	if n := len(p.Usage("nfs")); n != history.UsageDaysKept {
		t.Errorf("%d points kept, want %d", n, history.UsageDaysKept)
	}
}
