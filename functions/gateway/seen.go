package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// SeenBucket is the KV bucket where every gateway replica records the
// signed requests and chat commands it accepted, so that each is accepted
// once on all of them. Keys are "<door>.<hex MAC or hash>"; values are empty.
const SeenBucket = events.BucketGatewaySeen

// A request is remembered for the bucket's TTL (bus.GatewaySeenTTL), which
// must be at least this: a timestamp may be up to ReplayWindow ahead of the
// clock and stays valid until ReplayWindow after it, so a signature can
// verify for 2×ReplayWindow (30 s more: margin for the clocks of
// replicas). The conversion does not compile if the TTL is shorter.
const _ = uint64(bus.GatewaySeenTTL - (2*ReplayWindow + 30*time.Second))

// ErrReplayed is a request whose signature (or, for Mattermost, whose
// command) was already accepted within the replay window.
var ErrReplayed = fmt.Errorf("%w: this request was already received (sign each request anew)", ErrUnauthenticated)

// seen records accepted requests in SeenBucket, created on first use.
type seen struct {
	conn     *bus.Conn
	replicas int
	mu       sync.Mutex
	kv       jetstream.KeyValue
}

func (s *seen) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	kv, err := s.conn.EnsureKV(ctx, bus.Topology{Replicas: s.replicas}.KVConfig(SeenBucket))
	if err != nil {
		return nil, err
	}
	s.kv = kv
	return kv, nil
}

// first records key and fails with ErrReplayed when it was recorded
// already, on this gateway or another. It fails closed: when the bucket
// cannot be reached, the request is refused (502).
func (s *seen) first(ctx context.Context, key string) error {
	kv, err := s.bucket(ctx)
	if err != nil {
		return upstream(fmt.Errorf("replay protection: %w", err))
	}
	_, err = kv.Create(ctx, key, nil)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrReplayed
	}
	if err != nil {
		return upstream(fmt.Errorf("replay protection: record %s: %w", key, err))
	}
	return nil
}
