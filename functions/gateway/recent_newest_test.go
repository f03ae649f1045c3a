package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/restoreclient"
)

// The Restore view lists the newest restores of the last 30 days. It reads
// at most 20,000 events of that window, oldest first: once more are stored
// (a fleet's scheduled health checks restore every day), the newest restore
// is not among those read and the list shows old restores instead.
func TestRecentShowsTheNewestRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 20,001 events")
	}
	h := newHarness(t)
	ctx := context.Background()
	s := h.env.Subjects
	start := time.Now().Add(-24 * time.Hour)
	const n = 20001
	var last string
	for i := 0; i < n; i++ {
		req := events.RestoreRequested{RequestID: fmt.Sprintf("review-%05d", i), BackupID: h.backup.String(),
			Pool: "lab", RequestedBy: "webhook"}
		msg, err := restoreclient.Message(s, req, events.Source("test"), start.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.env.Conn.Publish(ctx, msg.Subject, msg.Event); err != nil {
			t.Fatal(err)
		}
		last = req.RequestID
	}
	code, page := h.do(t, "GET", "/restore", nil, "")
	if code != http.StatusOK {
		t.Fatalf("GET /restore: status %d", code)
	}
	if !strings.Contains(page, last) {
		t.Fatalf("GET /restore: the recent restores do not list the newest one, %s (requested last of %d)", last, n)
	}
}
