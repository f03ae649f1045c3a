package healthcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// PendingTTL bounds how long a request waits for its restore in the bucket
// (its TTL, set by bus.Topology.KVConfigs).
const PendingTTL = bus.HealthCheckPendingTTL

// Pending holds the requests waiting for the restore of their test VM:
// an xbr.restore.completed carries only the restore's fields.
type Pending interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// EnsurePending opens the bucket events.BucketHealthCheck (creating it if
// missing and conn may).
func EnsurePending(ctx context.Context, conn *bus.Conn, replicas int) (jetstream.KeyValue, error) {
	return conn.EnsureKV(ctx, bus.Topology{Replicas: replicas}.KVConfig(events.BucketHealthCheck))
}

// remember records req until its restore ends.
func (h *Handler) remember(ctx context.Context, req events.HealthCheckRequested) error {
	if req.CopyUUID != "" {
		return nil // a clone needs no restore
	}
	b, err := json.Marshal(req)
	if err != nil {
		return bus.Permanent(err)
	}
	if _, err := h.pending.Put(ctx, req.RequestID, b); err != nil {
		return fmt.Errorf("health check %s: remember the request: %w", req.RequestID, err)
	}
	return nil
}

// ended is a request whose check has ended and its outcome, kept in the bucket until its
// TTL so that a redelivered restore event gets the same answer (the outcome's event id is
// derived from the request): deleting the request when the check ended lost the outcome
// whenever it could not be published, or serve stopped, before the event was acked.
type ended struct {
	Request   events.HealthCheckRequested  `json:"request"`
	Completed *events.HealthCheckCompleted `json:"completed,omitempty"`
	Failed    *events.HealthCheckFailed    `json:"failed,omitempty"`
}

// recall reads the request of a restore's health check, and its outcome when its check
// has ended (nil before); ok false when there is none (never asked, or expired).
func (h *Handler) recall(ctx context.Context, requestID string) (events.HealthCheckRequested, events.Payload, bool, error) {
	var req events.HealthCheckRequested
	e, err := h.pending.Get(ctx, requestID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return req, nil, false, nil
	}
	if err != nil {
		return req, nil, false, fmt.Errorf("health check %s: read the request: %w", requestID, err)
	}
	var end ended
	if err := json.Unmarshal(e.Value(), &end); err == nil && end.Request.RequestID != "" {
		switch {
		case end.Completed != nil:
			return end.Request, *end.Completed, true, nil
		case end.Failed != nil:
			return end.Request, *end.Failed, true, nil
		}
		return end.Request, nil, true, nil
	}
	if err := json.Unmarshal(e.Value(), &req); err != nil {
		return req, nil, false, bus.Permanent(fmt.Errorf("health check %s: stored request: %w", requestID, err))
	}
	return req, nil, true, nil
}

// settle records the outcome p of req's check beside the request (see ended). A failure
// to record it is logged: the outcome still goes out now.
func (h *Handler) settle(ctx context.Context, req events.HealthCheckRequested, p events.Payload) {
	if req.CopyUUID != "" {
		return // never remembered: a redelivery goes on with its clone
	}
	end := ended{Request: req}
	switch o := p.(type) {
	case events.HealthCheckCompleted:
		end.Completed = &o
	case events.HealthCheckFailed:
		end.Failed = &o
	}
	b, err := json.Marshal(end)
	if err == nil {
		_, err = h.pending.Put(context.WithoutCancel(ctx), req.RequestID, b)
	}
	if err != nil {
		h.log.Warn("health check: record the outcome beside the request", "request", req.RequestID, "err", err)
	}
}
