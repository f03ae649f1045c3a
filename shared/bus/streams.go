package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// Topology names and sizes xbr's streams. The zero value means: prefix
// "xbr", streams XBR_EVENTS / XBR_PROGRESS / XBR_DLQ, the default ages, no
// byte limit, one replica, a one-hour duplicate window.
type Topology struct {
	Subjects        events.Subjects
	Streams         events.StreamNames
	EventsMaxAge    time.Duration
	ProgressMaxAge  time.Duration
	DLQMaxAge       time.Duration
	Replicas        int
	DuplicateWindow time.Duration
	// EventsMaxBytes, ProgressMaxBytes and DLQMaxBytes cap each stream's
	// size (0: no cap); when full, the oldest messages are dropped. They
	// matter on a shared backbone, where xbr's streams share the disk.
	EventsMaxBytes, ProgressMaxBytes, DLQMaxBytes int64
}

// StreamConfigs are the JetStream configurations EnsureStreams applies.
// The history (the events stream) is the audit trail: it refuses message
// deletes and purges (DenyDelete, DenyPurge); only its age and byte limits
// remove events. JetStream lets an update set these flags on an existing
// stream but never clear them, so nothing in xbr deletes from it.
func (t Topology) StreamConfigs() []jetstream.StreamConfig {
	names := t.Streams.WithDefaults()
	history := t.stream(names.Events, "xbr lifecycle events: the history", t.Subjects.LifecycleFilters(),
		durationOr(t.EventsMaxAge, events.DefaultEventsMaxAge), t.EventsMaxBytes)
	history.DenyDelete, history.DenyPurge = true, true
	return []jetstream.StreamConfig{
		history,
		t.stream(names.Progress, "xbr progress events (short-lived)", t.Subjects.ProgressFilters(),
			durationOr(t.ProgressMaxAge, events.DefaultProgressMaxAge), t.ProgressMaxBytes),
		t.stream(names.DLQ, "events xbr functions terminated, with the reason", []string{t.Subjects.DLQFilter()},
			durationOr(t.DLQMaxAge, events.DefaultDLQMaxAge), t.DLQMaxBytes),
	}
}

func (t Topology) stream(name, desc string, subjects []string, maxAge time.Duration, maxBytes int64) jetstream.StreamConfig {
	dup := min(durationOr(t.DuplicateWindow, events.DefaultDuplicateWindow), maxAge)
	if maxBytes <= 0 {
		maxBytes = -1 // JetStream's "no limit"
	}
	return jetstream.StreamConfig{
		Name:        name,
		Description: desc,
		Subjects:    subjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      maxAge,
		MaxBytes:    maxBytes,
		Replicas:    max(t.Replicas, 1),
		Duplicates:  dup,
	}
}

// EnsureStreams creates the streams of t, or updates them to t; running it
// again with the same topology changes nothing.
func (c *Conn) EnsureStreams(ctx context.Context, t Topology) error {
	for _, cfg := range t.StreamConfigs() {
		if err := events.ValidToken(cfg.Name); err != nil {
			return fmt.Errorf("stream name: %w", err)
		}
		err := ensure(ctx, func(ctx context.Context) error {
			_, err := c.js.CreateOrUpdateStream(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// EnsureKV creates or updates a key-value bucket (run state, locks). The
// zero Storage is file storage.
func (c *Conn) EnsureKV(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := ensure(ctx, func(ctx context.Context) (err error) {
		kv, err = c.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create or update kv bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
