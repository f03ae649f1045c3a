package bus

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestEnsureWaitsForPeersOfAFreshCluster: a cluster that has just formed
// may still count a peer offline and refuse a replicated stream ("no
// suitable peers for placement"); ensure tries again rather than failing a
// process that started with its cluster. The fault is injected: a live
// cluster answers it only by chance of timing.
func TestEnsureWaitsForPeersOfAFreshCluster(t *testing.T) {
	calls := 0
	noPeers := &jetstream.APIError{Code: 400, ErrorCode: errCodeNoSuitablePeers,
		Description: "no suitable peers for placement, peer offline"}
	err := ensure(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return fmt.Errorf("create or update stream: %w", noPeers)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("ensure: %v after %d calls, want success on the third", err, calls)
	}
	calls = 0
	err = ensure(context.Background(), func(context.Context) error {
		calls++
		return &jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeBadRequest, Description: "bad request"}
	})
	if err == nil || calls != 1 {
		t.Errorf("ensure of a bad request: %v after %d calls, want its error at once", err, calls)
	}
}
