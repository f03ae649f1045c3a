package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// How long the KV buckets keep a key (their TTL; 0 for ever).
const (
	// RunsMaxAge is how long run records and job locks are kept.
	RunsMaxAge = 90 * 24 * time.Hour
	// GatewaySeenTTL is how long a signed request is remembered: longer
	// than a signature's timestamp may be off either way (the gateway's
	// replay window, 5 minutes), plus a margin.
	GatewaySeenTTL = 2*5*time.Minute + 30*time.Second
	// HealthCheckPendingTTL bounds how long a health check waits for the
	// restore of its test VM.
	HealthCheckPendingTTL = 7 * 24 * time.Hour
)

// KVConfigs are the configurations of xbr's KV buckets (events.Bucket*),
// which EnsureStreams applies: the one place they are written. A function
// only binds to its buckets (EnsureKV), so its login needs no right to
// change a bucket's stream.
func (t Topology) KVConfigs() []jetstream.KeyValueConfig {
	r := max(t.Replicas, 1)
	return []jetstream.KeyValueConfig{
		{Bucket: events.BucketTimer, History: 1, Replicas: r,
			Description: "xbr timer: per schedule, the time it was evaluated up to"},
		{Bucket: events.BucketRuns, History: 1, TTL: RunsMaxAge, Replicas: r,
			Description: "xbr runs: job locks and run state"},
		{Bucket: events.BucketGatewaySeen, History: 1, TTL: GatewaySeenTTL, Replicas: r,
			Description: "signed requests the gateways accepted"},
		{Bucket: events.BucketHealthCheck, History: 1, TTL: HealthCheckPendingTTL, Replicas: r,
			Description: "xbr health checks waiting for the restore of their test VM"},
	}
}

// KVConfig is the configuration of bucket in t; it panics on a bucket that
// is not one of KVConfigs, a programming error a test catches.
func (t Topology) KVConfig(bucket string) jetstream.KeyValueConfig {
	for _, cfg := range t.KVConfigs() {
		if cfg.Bucket == bucket {
			return cfg
		}
	}
	panic("bus: no configuration for KV bucket " + bucket)
}

// ensureBuckets creates the buckets of t, or updates them to t. The update
// also undoes any other change to a bucket's stream (a republish).
func (c *Conn) ensureBuckets(ctx context.Context, t Topology) error {
	for _, cfg := range t.KVConfigs() {
		err := ensure(ctx, func(ctx context.Context) error {
			_, err := c.js.CreateOrUpdateKeyValue(ctx, cfg)
			return err
		})
		if timedOut(err) {
			// A server drops a request the login may not make, unanswered.
			return fmt.Errorf("create or update kv bucket %s: %w (a login without the permission %sSTREAM.CREATE/UPDATE.KV_%s gets no answer either: "+
				"since this release only the admin identity creates and updates the buckets; on a nats-server of your own, "+
				"apply the output of 'xbr nats permissions' again)", cfg.Bucket, err, "$JS.API.", cfg.Bucket)
		}
		if err != nil {
			return fmt.Errorf("create or update kv bucket %s: %w", cfg.Bucket, err)
		}
	}
	return nil
}

// EnsureKV binds to the key-value bucket cfg.Bucket (run state, locks).
// It never changes an existing bucket's configuration: EnsureStreams, run
// by the admin identity, does. A missing bucket is created from cfg, which
// only a login with no permissions (tests, a backbone without identities)
// may do; with xbr's grants the bucket is made at `xbr serve` start-up.
func (c *Conn) EnsureKV(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := ensure(ctx, func(ctx context.Context) (err error) {
		kv, err = c.js.KeyValue(ctx, cfg.Bucket)
		if !errors.Is(err, jetstream.ErrBucketNotFound) {
			return err
		}
		kv, err = c.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = c.js.KeyValue(ctx, cfg.Bucket) // another process made it first
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s (created by the admin identity when xbr serve starts): %w", cfg.Bucket, err)
	}
	return kv, nil
}
