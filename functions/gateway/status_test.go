package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/restoreclient"
)

func TestRestoreStatusFromEvents(t *testing.T) {
	h := newHarness(t)
	b := h.backup.String()
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	req := func(id string) events.RestoreRequested {
		return events.RestoreRequested{RequestID: id, BackupID: b, Pool: "lab", RequestedBy: "test"}
	}
	h.publish(t, "r-pending", req("r-pending"), at)

	h.publish(t, "r-running", req("r-running"), at)
	h.publish(t, "r-running-s", events.RestoreStarted{RequestID: "r-running", BackupID: b, Pool: "lab", TotalBytes: 4000}, at.Add(time.Second))
	h.publish(t, "r-running-p", events.RestoreProgress{RequestID: "r-running",
		Transfer: events.Transfer{Bytes: 1000, TotalBytes: 4000, BytesPerSecond: 500, ETASeconds: 6}}, at.Add(2*time.Second))

	h.publish(t, "r-done", req("r-done"), at)
	h.publish(t, "r-done-s", events.RestoreStarted{RequestID: "r-done", BackupID: b, Pool: "lab"}, at.Add(time.Second))
	h.publish(t, "r-done-c", events.RestoreCompleted{RequestID: "r-done", BackupID: b, Pool: "lab",
		NewVMUUID: "6a1f3f5e-0000-4000-8000-00000000abcd", NewVMName: "web (restored)", Bytes: 4000, DurationMS: 2000, BytesPerSecond: 2000}, at.Add(3*time.Second))

	h.publish(t, "r-failed", req("r-failed"), at)
	h.publish(t, "r-failed-f", events.RestoreFailed{RequestID: "r-failed", BackupID: b, Pool: "lab", Error: "checksum mismatch: the backup is corrupt"}, at.Add(time.Second))

	tests := []struct {
		id    string
		state restoreclient.State
		check func(restoreclient.Status) bool
	}{
		{"r-pending", restoreclient.StatePending, func(s restoreclient.Status) bool { return s.Bytes == 0 && s.Error == "" }},
		{"r-running", restoreclient.StateRunning, func(s restoreclient.Status) bool {
			return s.Bytes == 1000 && s.TotalBytes == 4000 && s.BytesPerSecond == 500 && s.Percent == 25
		}},
		{"r-done", restoreclient.StateCompleted, func(s restoreclient.Status) bool {
			return s.NewVMName == "web (restored)" && s.Bytes == 4000 && s.Percent == 100 && !s.FinishedAt.IsZero()
		}},
		{"r-failed", restoreclient.StateFailed, func(s restoreclient.Status) bool { return s.Error == "checksum mismatch: the backup is corrupt" }},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			code, out := h.do(t, "GET", "/v1/restores/"+tc.id, signedFor(webhookSecret, time.Now(), "GET", "/v1/restores/"+tc.id, ""), "")
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, out)
			}
			st := decode[restoreclient.Status](t, out)
			if st.RequestID != tc.id || st.State != tc.state || st.BackupID != b || !tc.check(st) {
				t.Fatalf("status %+v, want %s", st, tc.state)
			}
			// The page's JSON says the same, without a signature.
			code, page := h.do(t, "GET", "/restores/"+tc.id+"/status", nil, "")
			if code != http.StatusOK || decode[restoreclient.Status](t, page).State != tc.state {
				t.Fatalf("page status %d: %s", code, page)
			}
		})
	}

	refused := []struct {
		name, path string
		header     http.Header
		code       int
	}{
		{"unsigned", "/v1/restores/r-done", nil, http.StatusUnauthorized},
		{"signed for a body", "/v1/restores/r-done", signedFor(webhookSecret, time.Now(), "GET", "/v1/restores/r-done", "{}"), http.StatusUnauthorized},
		{"stale signature", "/v1/restores/r-done", signedFor(webhookSecret, time.Now().Add(-10*time.Minute), "GET", "/v1/restores/r-done", ""), http.StatusUnauthorized},
		{"unknown id", "/v1/restores/never-requested", signedFor(webhookSecret, time.Now(), "GET", "/v1/restores/never-requested", ""), http.StatusNotFound},
		{"bad id", "/v1/restores/a%21b", signedFor(webhookSecret, time.Now(), "GET", "/v1/restores/a%21b", ""), http.StatusBadRequest},
		{"page: unknown id", "/restores/never-requested/status", nil, http.StatusNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := h.do(t, "GET", tc.path, tc.header, ""); code != tc.code {
				t.Fatalf("status %d (%s), want %d", code, out, tc.code)
			}
		})
	}
}
