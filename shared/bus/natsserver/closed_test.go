package natsserver_test

import (
	"log/slog"
	"testing"
	"time"

	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/testsupport"
)

// TestClosedClientsAreBounded: the server remembers a bounded number of
// closed connections, so short-lived CLI connections do not pile up in the
// memory of a long-running xbr serve.
func TestClosedClientsAreBounded(t *testing.T) {
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	const conns = 150
	for range conns {
		c, err := bus.Connect(srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var closed int
	testsupport.Eventually(t, 10*time.Second, "every connection closed on the server", func() bool {
		open, c, err := srv.Connections()
		closed = c
		return err == nil && open == 0
	})
	if closed <= 0 || closed >= conns {
		t.Fatalf("%d closed connections remembered of %d: want some and fewer", closed, conns)
	}
}
