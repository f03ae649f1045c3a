package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/xapi"
)

// Publisher publishes an event now (started); *bus.Conn is one.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Defaults of Options.
const (
	DefaultPoll       = 500 * time.Millisecond
	DefaultAliveEvery = 3 * time.Second
	DefaultStaleAfter = 15 * time.Second
	// TestVMPrefix starts every test VM's name_label.
	TestVMPrefix = "xbr health check of "
)

// Options are the handler's knobs; zero values mean the defaults.
type Options struct {
	Now        func() time.Time // [time.Now]
	Log        *slog.Logger     // [discard]
	Poll       time.Duration    // how often the test VM is read while it boots [DefaultPoll]
	AliveEvery time.Duration    // how often a running check renews its mark [DefaultAliveEvery]
	StaleAfter time.Duration    // a mark older than this is a killed check's [DefaultStaleAfter]
}

// Handler runs health checks: xbr.healthcheck.requested, and the
// xbr.restore.completed|failed of the restores it asked for.
type Handler struct {
	pools    Pools
	pub      Publisher
	pending  Pending
	subjects events.Subjects
	opts     Options
	log      *slog.Logger
}

// New returns the check handler.
func New(pools Pools, pub Publisher, pending Pending, s events.Subjects, o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Poll = durationOr(o.Poll, DefaultPoll)
	o.AliveEvery = durationOr(o.AliveEvery, DefaultAliveEvery)
	o.StaleAfter = durationOr(o.StaleAfter, DefaultStaleAfter)
	return &Handler{pools: pools, pub: pub, pending: pending, subjects: s, opts: o, log: o.Log}
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Handle dispatches one event of the check consumer.
func (h *Handler) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	switch p := ev.Received.Payload.(type) {
	case events.HealthCheckRequested:
		return h.requested(ctx, p)
	case events.RestoreCompleted:
		if !strings.HasPrefix(p.RequestID, requestPrefix) {
			return nil, nil // a restore someone else asked for
		}
		return h.restored(ctx, p)
	case events.RestoreFailed:
		if !strings.HasPrefix(p.RequestID, requestPrefix) {
			return nil, nil
		}
		return h.restoreFailed(ctx, p)
	}
	return nil, bus.Permanent(fmt.Errorf("health check: unexpected event type %s", ev.Received.Type()))
}

// requestPrefix starts every health check id (RequestID, on-demand ids).
const requestPrefix = events.HealthCheckIDPrefix

// requested starts a check: a standby copy is cloned and checked now; a
// backup is handed to the restore function.
func (h *Handler) requested(ctx context.Context, req events.HealthCheckRequested) ([]bus.Out, error) {
	if err := h.remember(ctx, req); err != nil {
		return nil, err
	}
	h.Sweep(ctx, req.Pool)
	if req.CopyUUID != "" {
		return h.checkCopy(ctx, req)
	}
	restore := events.RestoreRequested{RequestID: req.RequestID, BackupID: req.BackupID, Pool: req.Pool, SR: req.SR,
		Name: TestVMPrefix + testName(req), RequestedBy: "healthcheck"}
	return h.out(req.RequestID, restore)
}

// testName is what the test VM is named after.
func testName(req events.HealthCheckRequested) string {
	switch {
	case req.VMName != "":
		return req.VMName
	case req.VMUUID != "":
		return req.VMUUID
	}
	return req.BackupID
}

// out builds the follow-up event p; its id is derived from the request.
func (h *Handler) out(requestID string, p events.Payload) ([]bus.Out, error) {
	id := events.DeriveID(string(p.EventType()), requestID)
	if _, ok := p.(events.RestoreRequested); ok {
		id = requestID // as every restore request: the event id is the request id
	}
	msg, err := h.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: h.opts.Now()}, p)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return []bus.Out{msg}, nil
}

// publish sends p now (started).
func (h *Handler) publish(ctx context.Context, requestID string, p events.Payload) error {
	msg, err := h.subjects.Message(events.Meta{ID: events.DeriveID(string(p.EventType()), requestID),
		Source: events.Source(Name), Time: h.opts.Now()}, p)
	if err != nil {
		return err
	}
	_, err = h.pub.Publish(ctx, msg.Subject, msg.Event)
	return err
}

// errGone is a test VM that no longer exists when its check goes on.
var errGone = errors.New("interrupted: the test VM no longer exists (its check was stopped or killed, and the VM destroyed or swept); ask for the check again")

// vmByUUID finds the test VM; errGone when it is not there.
func vmByUUID(ctx context.Context, c *xapi.Client, uuid string) (xapi.VMRef, error) {
	ref, err := c.VMByUUID(ctx, uuid)
	if xapi.IsCode(err, codeUUIDInvalid) {
		return "", errGone
	}
	return ref, err
}
