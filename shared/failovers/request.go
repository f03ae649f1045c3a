package failovers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/xotag"
)

// Latest is the copy selector of the newest complete copy.
const Latest = "latest"

// Params are what a front end asks for.
type Params struct {
	VM          string // source VM uuid or name, or the copy's uuid (see Confirmed)
	Copy        string // "" or "latest", or a recovery point (see ParseCopy)
	Pool        string // look on this standby pool only; "" = every replicate job's target
	Start       bool   // boot the copy
	Force       bool   // fail over even while the source VM or another copy of it is running
	RequestedBy string // who asked: "cli:user@host", "webhook", "web", "slack:U123", ...
	// Key makes the request idempotent: the same key and parameters give
	// the same request id. Empty: the request time is used.
	Key string
}

// Confirmed is p once an operator confirmed copy c (the CLI on a terminal;
// the DR page's form pins the same two fields): the request names c's own
// uuid and recovery point, so the replicate function fails over c or, when
// c was pruned or destroyed meanwhile, nothing; never a copy that completed
// after the confirmation was shown. A request nobody confirmed (--yes, the webhook,
// chat) keeps its selector: "latest" is the newest complete copy when the
// request is handled.
func (p Params) Confirmed(c events.CopyRecord) Params {
	p.VM, p.Copy = c.UUID, CopyString(c.Datetime)
	return p
}

// ParseCopy reads which copy: "" or "latest" (zero time), or a recovery
// point as xo:backup:datetime (20231012T10:11:12Z), as in copy names
// (20231012T101112Z) or RFC 3339, to the second.
func ParseCopy(s string) (time.Time, error) {
	if s == "" || s == Latest {
		return time.Time{}, nil
	}
	if t, err := xotag.ParseDatetime(s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Nanosecond() != 0 {
		return time.Time{}, fmt.Errorf("copy %.40q: want latest or a recovery point like 20231012T10:11:12Z, 20231012T101112Z or 2023-10-12T10:11:12Z", s)
	}
	return t.UTC(), nil
}

// CopyString is the selector of the copy at t as the request event carries
// it: "latest" for the zero time, else YYYYMMDDTHHMMSSZ.
func CopyString(t time.Time) string {
	if t.IsZero() {
		return Latest
	}
	return t.UTC().Format(xotag.StampLayout)
}

// NewRequest validates p and returns the request with its derived id.
// Errors name the field and quote the value.
func NewRequest(p Params, now time.Time) (events.FailoverRequested, error) {
	at, err := ParseCopy(p.Copy)
	if err != nil {
		return events.FailoverRequested{}, err
	}
	p.Copy = CopyString(at)
	if strings.TrimSpace(p.VM) == "" {
		return events.FailoverRequested{}, fmt.Errorf("vm: is required (the source VM's uuid or name, or the copy's uuid)")
	}
	req := events.FailoverRequested{RequestID: RequestID(p, now), VM: p.VM, Copy: p.Copy, Pool: p.Pool,
		Start: p.Start, Force: p.Force, RequestedBy: p.RequestedBy}
	if err := req.Validate(); err != nil {
		return events.FailoverRequested{}, err
	}
	return req, nil
}

// RequestID is the id of the request p: derived from p.Key (or now, when
// there is no key) and every parameter.
func RequestID(p Params, now time.Time) string {
	key := p.Key
	if key == "" {
		key = now.UTC().Format(time.RFC3339Nano)
	}
	return events.DeriveID("failover.requested", key, p.VM, p.Copy, p.Pool,
		strconv.FormatBool(p.Start), strconv.FormatBool(p.Force))
}

// Publisher publishes a CloudEvent; *bus.Conn is one.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Publish validates p, then publishes its xbr.failover.requested (event id
// = request id) from source, e.g. events.Source("cli"), and returns it.
func Publish(ctx context.Context, pub Publisher, s events.Subjects, source string, p Params, now time.Time) (events.FailoverRequested, error) {
	req, err := NewRequest(p, now)
	if err != nil {
		return events.FailoverRequested{}, err
	}
	msg, err := s.Message(events.Meta{ID: req.RequestID, Source: source, Time: now}, req)
	if err != nil {
		return events.FailoverRequested{}, err
	}
	if _, err := pub.Publish(ctx, msg.Subject, msg.Event); err != nil {
		return events.FailoverRequested{}, fmt.Errorf("publish failover request %s: %w", req.RequestID, err)
	}
	return req, nil
}
