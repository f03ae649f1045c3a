package restoreclient

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/catalog"
)

// Params are what a front end asks for.
type Params struct {
	BackupID    string `json:"backup_id"`              // "<remote>:<vm-uuid>/<timestamp>", checked by catalog.ParseID
	Pool        string `json:"pool"`                   // target pool (a configured pool name)
	SR          string `json:"sr,omitempty"`           // target SR by uuid or name_label; "" = the pool's default SR
	Name        string `json:"name,omitempty"`         // new VM name; "" = "<vm name> (<backup time>)"
	Start       bool   `json:"start,omitempty"`        // start the VM after the restore
	RequestedBy string `json:"requested_by,omitempty"` // who asked: "cli:user@host", "webhook", "slack:U123", ...
	// Key makes the request idempotent: the same key and parameters give the
	// same request id, so a retried webhook delivery restores once. Empty:
	// the request time is used, so every call is a new request.
	Key string `json:"key,omitempty"`
}

// NewRequest validates p and returns the request with its derived id. Errors
// name the field and quote the value.
func NewRequest(p Params, now time.Time) (events.RestoreRequested, error) {
	if _, err := catalog.ParseID(p.BackupID); err != nil {
		return events.RestoreRequested{}, fmt.Errorf("backup id: %w", err)
	}
	req := events.RestoreRequested{RequestID: RequestID(p, now), BackupID: p.BackupID, Pool: p.Pool,
		SR: p.SR, Name: p.Name, Start: p.Start, RequestedBy: p.RequestedBy}
	if err := req.Validate(); err != nil {
		return events.RestoreRequested{}, err
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
	return events.DeriveID("restore.requested", key, p.BackupID, p.Pool, p.SR, p.Name, strconv.FormatBool(p.Start))
}

// Message is the CloudEvent of req, with id = request id, from source (e.g.
// events.Source("cli")).
func Message(s events.Subjects, req events.RestoreRequested, source string, now time.Time) (events.Message, error) {
	return s.Message(events.Meta{ID: req.RequestID, Source: source, Time: now}, req)
}

// Publisher publishes a CloudEvent; *bus.Conn is one.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// Publish validates p, then publishes its xbr.restore.requested and returns
// the request. Publishing the same request again is a no-op (the event id is
// the request id, de-duplicated by JetStream).
func Publish(ctx context.Context, pub Publisher, s events.Subjects, source string, p Params, now time.Time) (events.RestoreRequested, error) {
	req, err := NewRequest(p, now)
	if err != nil {
		return events.RestoreRequested{}, err
	}
	msg, err := Message(s, req, source, now)
	if err != nil {
		return events.RestoreRequested{}, err
	}
	if _, err := pub.Publish(ctx, msg.Subject, msg.Event); err != nil {
		return events.RestoreRequested{}, fmt.Errorf("publish restore request %s: %w", req.RequestID, err)
	}
	return req, nil
}
