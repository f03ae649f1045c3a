package failovers_test

import (
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/failovers"
)

func TestNewRequest(t *testing.T) {
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	p := failovers.Params{VM: "web-1", Copy: "20261129T01:00:00Z", Start: true, RequestedBy: "web", Key: "k"}
	req, err := failovers.NewRequest(p, now)
	if err != nil || req.Copy != "20261129T010000Z" || req.VM != "web-1" || !req.Start || req.RequestedBy != "web" {
		t.Fatalf("%+v, %v", req, err)
	}
	again, _ := failovers.NewRequest(p, now.Add(time.Hour))
	p.Force = true
	forced, _ := failovers.NewRequest(p, now)
	if again.RequestID != req.RequestID || forced.RequestID == req.RequestID {
		t.Errorf("ids: %s, same key %s, forced %s", req.RequestID, again.RequestID, forced.RequestID)
	}
	for _, bad := range []failovers.Params{{VM: " "}, {VM: "web", Copy: "yesterday"}, {VM: "a\nb"}, {VM: strings.Repeat("v", 300)}} {
		if _, err := failovers.NewRequest(bad, now); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

const uuid = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"

// A confirmed request names the copy shown, whatever was asked for.
func TestConfirmedPinsTheCopy(t *testing.T) {
	at := time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)
	p := failovers.Params{VM: "web-1", Copy: failovers.Latest, Pool: "standby", Start: true, RequestedBy: "cli:ops@admin1"}
	req, err := failovers.NewRequest(p.Confirmed(events.CopyRecord{UUID: uuid, VMUUID: "src", Datetime: at}), at)
	if err != nil || req.VM != uuid || req.Copy != "20261129T010000Z" || req.Pool != "standby" || !req.Start || req.RequestedBy != p.RequestedBy {
		t.Fatalf("confirmed request: %+v, %v", req, err)
	}
}

func TestStatusFirstOutcomeWins(t *testing.T) {
	var st failovers.Status
	apply := func(p events.Payload) bool {
		ev, err := events.New(events.Meta{ID: "x", Source: "/t", Time: time.Now()}, p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Apply(events.Received{Message: events.Message{Event: ev}, Payload: p})
	}
	apply(events.FailoverRequested{RequestID: "r1", VM: "web"})
	if st.State != failovers.StatePending || st.Done() {
		t.Fatalf("after the request: %+v", st)
	}
	if apply(events.FailoverFailed{RequestID: "r2", VM: "web", Error: "x"}) {
		t.Error("another request's outcome was applied")
	}
	apply(events.FailoverFailed{RequestID: "r1", VM: "web", Refused: true, Error: "running"})
	done := events.FailoverCompleted{RequestID: "r1", VM: "web", VMUUID: uuid, CopyUUID: uuid, CopyName: "web - dr - (x)",
		Pool: "standby", Job: "dr", RecoveryPoint: "20261129T010000Z", PowerState: "Running", Source: events.SourceHalted}
	if apply(done) || !st.Refused() || st.Error() != "running" {
		t.Errorf("after two outcomes: %+v", st)
	}
}

// A copy selector is outside input: what ParseCopy accepts reads back the
// same through CopyString and makes a valid request.
func FuzzParseCopy(f *testing.F) {
	for _, s := range []string{"", "latest", "20231012T10:11:12Z", "20231012T101112Z", "2023-10-12T10:11:12+02:00", "2023-10-12T10:11:12.5Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := failovers.ParseCopy(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "copy ") {
				t.Fatalf("error %v does not name the field", err)
			}
			return
		}
		back, err := failovers.ParseCopy(failovers.CopyString(at))
		if err != nil || !back.Equal(at) {
			t.Fatalf("%q: %v read back as %v, %v", s, at, back, err)
		}
		if _, err := failovers.NewRequest(failovers.Params{VM: "web", Copy: s}, time.Now()); err != nil && at.Year() >= 0 && at.Year() <= 9999 {
			t.Fatalf("%q parsed but the request is invalid: %v", s, err)
		}
	})
}
