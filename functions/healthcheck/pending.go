package healthcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// PendingTTL bounds how long a request waits for its restore in the bucket.
const PendingTTL = 7 * 24 * time.Hour

// Pending holds the requests waiting for the restore of their test VM:
// an xbr.restore.completed carries only the restore's fields.
type Pending interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// EnsurePending creates the bucket (events.BucketHealthCheck).
func EnsurePending(ctx context.Context, conn *bus.Conn, replicas int) (jetstream.KeyValue, error) {
	return conn.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: events.BucketHealthCheck, History: 1,
		TTL: PendingTTL, Replicas: max(replicas, 1),
		Description: "xbr health checks waiting for the restore of their test VM"})
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

// recall reads the request of a restore's health check; ok false when
// there is none (answered already, or never asked).
func (h *Handler) recall(ctx context.Context, requestID string) (events.HealthCheckRequested, bool, error) {
	var req events.HealthCheckRequested
	e, err := h.pending.Get(ctx, requestID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return req, false, nil
	}
	if err != nil {
		return req, false, fmt.Errorf("health check %s: read the request: %w", requestID, err)
	}
	if err := json.Unmarshal(e.Value(), &req); err != nil {
		return req, false, bus.Permanent(fmt.Errorf("health check %s: stored request: %w", requestID, err))
	}
	return req, true, nil
}

// forget drops the request once its outcome is decided.
func (h *Handler) forget(ctx context.Context, requestID string) {
	if err := h.pending.Delete(ctx, requestID); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		h.log.Warn("health check: forget the request", "request", requestID, "err", err)
	}
}
