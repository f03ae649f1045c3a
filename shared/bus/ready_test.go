package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
)

// TestReadyFollowsTheConsumerAndTheServer: Ready is nil only while the
// durable's loop runs on this connection and the server answers.
func TestReadyFollowsTheConsumerAndTheServer(t *testing.T) {
	e := newEnv(t)
	ready := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return e.conn.Ready(ctx, "export")
	}
	if err := ready(); err == nil || !strings.Contains(err.Error(), "consumer export: not consuming") {
		t.Fatalf("Ready before Consume = %v, want consumer export not consuming", err)
	}
	stop := e.consume(t, exportConsumer("export"), nil)
	testsupport.Eventually(t, 5*time.Second, "ready while consuming", func() bool { return ready() == nil })
	if err := e.conn.Ready(context.Background()); err != nil {
		t.Errorf("Ready with no durables = %v, want nil", err)
	}
	stop()
	if err := ready(); err == nil {
		t.Error("Ready after the loop stopped = nil, want an error")
	}
	e.consume(t, exportConsumer("export"), nil)
	testsupport.Eventually(t, 5*time.Second, "ready again", func() bool { return ready() == nil })
	e.srv.Shutdown()
	testsupport.Eventually(t, 5*time.Second, "not ready without the server", func() bool {
		err := ready()
		return err != nil && strings.Contains(err.Error(), "nats:")
	})
}
