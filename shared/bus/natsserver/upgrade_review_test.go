package natsserver_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
)

// TestServeStartsOnAServerConfiguredBeforeTheUpgrade: an external
// nats-server configured from `xbr nats permissions` of the previous
// release (the admin may create and update XBR_* streams only: each
// function created its own bucket) already holds the KV buckets, made with
// the very configurations xbr wants. After upgrading xbr, the admin's
// start-up (EnsureStreams) now also updates every bucket; the server
// drops the denied request unanswered, so `xbr serve` gives up after its
// retries with "context deadline exceeded", a reason that names neither
// permissions nor the fix (regenerate the server's authorization block).
func TestServeStartsOnAServerConfiguredBeforeTheUpgrade(t *testing.T) {
	ids, err := bus.EnsureIdentities(t.TempDir(), []string{"admin", "setup"})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := events.RoleOf(events.IdentityAdmin)
	now := admin.Grant(events.Subjects{}, events.StreamNames{})
	before := now // the admin's grant before the upgrade
	before.Publish = slices.DeleteFunc(slices.Clone(now.Publish), func(s string) bool {
		return strings.HasPrefix(s, "$JS.API.STREAM.CREATE.KV_") || strings.HasPrefix(s, "$JS.API.STREAM.UPDATE.KV_")
	})
	users := []natsserver.User{
		{Name: ids["admin"].User, Password: ids["admin"].Password, Grant: before},
		{Name: ids["setup"].User, Password: ids["setup"].Password, Grant: now}, // the old install's buckets
	}
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := connectAs(t, srv, ids["setup"]).EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = connectAs(t, srv, ids["admin"]).EnsureStreams(ctx, bus.Topology{})
	if err != nil && !strings.Contains(strings.ToLower(err.Error()), "permission") {
		t.Fatalf("xbr serve's start-up after %v: %v (nothing about the buckets needed changing; the error does not say the admin lacks a permission)",
			time.Since(start).Round(time.Second), err)
	}
}
