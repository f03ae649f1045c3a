package restoreclient_test

import (
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/restoreclient"
)

const reqID = "r1"

func received(t *testing.T, at time.Time, p events.Payload) events.Received {
	t.Helper()
	msg, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID(at.String()), Source: "/test", Time: at}, p)
	if err != nil {
		t.Fatal(err)
	}
	return events.Received{Message: msg, Payload: p}
}

func TestStatusProjection(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	requested := events.RestoreRequested{RequestID: reqID, BackupID: goodID, Pool: "lab", RequestedBy: "cli"}
	started := events.RestoreStarted{RequestID: reqID, BackupID: goodID, Pool: "lab", SR: "sr-uuid", TotalBytes: 1000}
	progress := events.RestoreProgress{RequestID: reqID, Transfer: events.Transfer{Bytes: 250, TotalBytes: 1000, BytesPerSecond: 50, ETASeconds: 15}}
	done := events.RestoreCompleted{RequestID: reqID, BackupID: goodID, Pool: "lab", NewVMUUID: "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f",
		NewVMName: "web (x)", Bytes: 1000, DurationMS: 20000, BytesPerSecond: 50}
	fail := events.RestoreFailed{RequestID: reqID, BackupID: goodID, Pool: "lab", Error: "checksum mismatch"}
	other := events.RestoreProgress{RequestID: "r2", Transfer: events.Transfer{Bytes: 999}}
	tests := []struct {
		name    string
		seq     []events.Payload
		state   restoreclient.State
		bytes   int64
		percent float64
		errText string
		newVM   string
		changes int
	}{
		{"requested", []events.Payload{requested}, restoreclient.StatePending, 0, 0, "", "", 1},
		{"started", []events.Payload{requested, started}, restoreclient.StateRunning, 0, 0, "", "", 2},
		{"progress", []events.Payload{requested, started, progress}, restoreclient.StateRunning, 250, 25, "", "", 3},
		{"completed", []events.Payload{requested, started, progress, done}, restoreclient.StateCompleted, 1000, 100, "", done.NewVMUUID, 4},
		{"failed", []events.Payload{requested, started, fail}, restoreclient.StateFailed, 0, 0, "checksum mismatch", "", 3},
		{"late progress ignored", []events.Payload{requested, done, progress}, restoreclient.StateCompleted, 1000, 100, "", done.NewVMUUID, 2},
		{"other request ignored", []events.Payload{requested, other}, restoreclient.StatePending, 0, 0, "", "", 1},
		{"outcome without request", []events.Payload{fail}, restoreclient.StateFailed, 0, 0, "checksum mismatch", "", 1},
		{"failure never undoes completion", []events.Payload{requested, done, fail}, restoreclient.StateCompleted, 1000, 100, "", done.NewVMUUID, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s restoreclient.Status
			changes := 0
			for i, p := range tc.seq {
				if s.Apply(received(t, t0.Add(time.Duration(i)*time.Second), p)) {
					changes++
				}
			}
			if s.State != tc.state || s.Bytes != tc.bytes || s.Percent != tc.percent || s.Error != tc.errText ||
				s.NewVMUUID != tc.newVM || changes != tc.changes || s.RequestID != reqID {
				t.Fatalf("status %+v after %d changes", s, changes)
			}
			if s.Done() != (tc.state == restoreclient.StateCompleted || tc.state == restoreclient.StateFailed) {
				t.Fatalf("Done() = %v in state %s", s.Done(), s.State)
			}
		})
	}
}
