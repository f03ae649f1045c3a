package healthcheck_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

type noPool struct{}

func (noPool) Names() []string { return []string{"lab"} }
func (noPool) Client(context.Context, string) (*xapi.Client, error) {
	return nil, errors.New("pool unreachable")
}

// TestOutcomeSurvivesARedelivery: the bus publishes a handler's follow-ups
// after Handle returns and redelivers the event when that publish fails
// (or serve is killed in between). Handle forgot the pending request before
// returning, so the redelivered xbr.restore.failed found no request and
// returned nothing: the check's outcome was never published. The outcome is
// now kept beside the request, and the redelivery answers it again.
func TestOutcomeSurvivesARedelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := testsupport.StartNATS(t)
	pending, err := healthcheck.EnsurePending(ctx, conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := healthcheck.New(noPool{}, conn, pending, xapiSubjects(t), healthcheck.Options{})
	backup := "nfs:aaaaaaaa-0000-4000-8000-000000000001/20261206T020000Z"
	req := events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", backup), BackupID: backup,
		VMUUID: "aaaaaaaa-0000-4000-8000-000000000001", Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: 10000}
	if _, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}}); err != nil {
		t.Fatal(err)
	}
	failed := events.RestoreFailed{RequestID: req.RequestID, BackupID: backup, Error: "import: disk full"}
	var ids []string
	for delivery := 1; delivery <= 2; delivery++ { // the first delivery's follow-up did not go out
		outs, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: failed}})
		if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeHealthCheckFailed) {
			t.Fatalf("delivery %d of restore.failed: outcome %d events, err %v; want one %s",
				delivery, len(outs), err, events.TypeHealthCheckFailed)
		}
		ids = append(ids, outs[0].Event.ID())
	}
	if ids[0] != ids[1] { // the bus keeps one
		t.Fatalf("the two deliveries' outcomes have ids %s and %s; want the same event", ids[0], ids[1])
	}
}
