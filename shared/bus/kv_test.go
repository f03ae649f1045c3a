package bus_test

import (
	"testing"

	"xbr/events"
	"xbr/shared/bus"
)

// TestEveryBucketHasItsConfig: the admin creates every bucket a role uses
// (EnsureStreams), so each has its configuration in the topology, with the
// topology's replicas.
func TestEveryBucketHasItsConfig(t *testing.T) {
	topo := bus.Topology{Replicas: 3}
	for _, r := range events.Roles() {
		for _, b := range r.Buckets {
			if cfg := topo.KVConfig(b); cfg.Bucket != b || cfg.Replicas != 3 {
				t.Errorf("role %s: bucket %s has config %+v", r.Name, b, cfg)
			}
		}
	}
}
