package events_test

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

// A fire published now names its mode: without one it would travel on
// schedule.due._.<job>.<schedule>, where no planner reads.
func TestNewFireNeedsMode(t *testing.T) {
	_, err := events.Subjects{}.Message(events.Meta{ID: "x", Source: events.Source("timer"), Time: exFire},
		events.ScheduleDue{RunID: exRun, Job: "nightly", Schedule: "daily", FireTime: exFire})
	if err == nil || !strings.Contains(err.Error(), "schedule.due: mode: is required") {
		t.Fatalf("a fire without mode: %v, want an error naming mode", err)
	}
}

// A fire stored before contract 2.0.0 (no mode, the old subject) still
// decodes: the history of XBR_EVENTS stays readable.
func TestStoredFireWithoutModeDecodes(t *testing.T) {
	h := map[string][]string{"ce-specversion": {"1.0"}, "ce-id": {"old-fire"}, "ce-source": {"/xbr/timer"},
		"ce-type": {"xbr.schedule.due"}, "ce-time": {"2026-11-29T01:00:00Z"}, "Content-Type": {"application/json"}}
	data := `{"run_id":"` + exRun + `","job":"nightly","schedule":"daily","fire_time":"2026-11-29T01:00:00Z"}`
	got, err := events.Decode("xbr.schedule.due.nightly.daily", h, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	due := got.Payload.(events.ScheduleDue)
	if due.Mode != "" || due.Job != "nightly" || !due.FireTime.Equal(exFire) {
		t.Errorf("decoded %+v", due)
	}
}

// A mode this release does not know (a later one adds modes) is read, not
// refused.
func TestFireOfAnUnknownModeDecodes(t *testing.T) {
	m := exampleMessage(t, events.ScheduleDue{RunID: exRun, Job: "nightly", Schedule: "daily", Mode: "incremental", FireTime: exFire})
	if m.Subject != "xbr.schedule.due.incremental.nightly.daily" {
		t.Errorf("subject %s", m.Subject)
	}
	h, data, err := events.Encode(m.Event)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Decode(m.Subject, h, data); err != nil {
		t.Errorf("decode: %v", err)
	}
}

// The progress payloads embed one Transfer, and their JSON is what it was
// before: flat members, the same names, the same omissions.
func TestProgressWireShape(t *testing.T) {
	tr := events.Transfer{Bytes: 10, BytesPerSecond: 5}
	for _, tt := range []struct {
		p    events.Payload
		want []string
	}{
		{events.ExportProgress{RunID: exRun, Job: "j", VMUUID: exVM, Transfer: tr}, []string{"run_id", "job", "vm_uuid"}},
		{events.ReplicateProgress{RunID: exRun, Job: "j", VMUUID: exVM, Transfer: tr}, []string{"run_id", "job", "vm_uuid"}},
		{events.RestoreProgress{RequestID: exReq, Transfer: tr}, []string{"request_id"}},
	} {
		raw, err := json.Marshal(tt.p)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		want := append(tt.want, "bytes", "bytes_per_second")
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s: members %v, want %v", tt.p.EventType(), keys, want)
		}
	}
}

func TestTransferAt(t *testing.T) {
	for _, tt := range []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        events.Transfer
	}{
		{"halfway", 100, 400, 2 * time.Second, events.Transfer{Bytes: 100, TotalBytes: 400, BytesPerSecond: 50, ETASeconds: 6}},
		{"eta rounds up", 100, 401, 2 * time.Second, events.Transfer{Bytes: 100, TotalBytes: 401, BytesPerSecond: 50, ETASeconds: 7}},
		{"total unknown", 100, 0, time.Second, events.Transfer{Bytes: 100, BytesPerSecond: 100}},
		{"estimate too low", 500, 400, time.Second, events.Transfer{Bytes: 500, BytesPerSecond: 500}},
		{"no time yet", 100, 400, 0, events.Transfer{Bytes: 100, TotalBytes: 400}},
		{"nothing yet", 0, 400, time.Second, events.Transfer{TotalBytes: 400}},
		{"done", 400, 400, 4 * time.Second, events.Transfer{Bytes: 400, TotalBytes: 400, BytesPerSecond: 100}},
	} {
		if got := events.TransferAt(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("%s: TransferAt(%d, %d, %s) = %+v, want %+v", tt.name, tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

// README.md states the contract's version and, for a major version, the
// migration note audit consumers follow.
func TestREADMEStatesTheContractVersion(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	major, _, _ := strings.Cut(events.ContractVersion, ".")
	for _, want := range []string{
		"**Events contract version: `" + events.ContractVersion + "`**",
		"### Migrating to " + major + ".0.0",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}
