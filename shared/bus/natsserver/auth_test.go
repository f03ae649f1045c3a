package natsserver_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
)

// TestServerWithUsersRefusesStrangers is issue 12 finding 1 in the bus: an
// embedded server with users takes no anonymous or wrong login, and each
// user gets only its grant (finding 2: no restore request from export).
func TestServerWithUsersRefusesStrangers(t *testing.T) {
	ids, err := bus.EnsureIdentities(t.TempDir(), []string{"admin", "export", "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	var users []natsserver.User
	for _, id := range ids {
		role, _ := events.RoleOf(id.Name)
		users = append(users, natsserver.User{Name: id.User, Password: id.Password, Grant: role.Grant(events.Subjects{}, events.StreamNames{})})
	}
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	for name, o := range map[string]bus.ConnectOptions{
		"anonymous": {}, "wrong password": {User: ids["export"].User, Password: "wrong"},
		"unknown user": {User: "intruder", Password: ids["export"].Password},
	} {
		if c, err := bus.Connect(srv.ClientURL(), o, discard()); err == nil {
			_ = c.Close()
			t.Errorf("%s: connected", name)
		}
	}
	admin := connectAs(t, srv, ids["admin"])
	if err := admin.EnsureStreams(context.Background(), bus.Topology{}); err != nil {
		t.Fatalf("admin cannot create the streams: %v", err)
	}
	restore := restoreRequested(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := connectAs(t, srv, ids["export"]).Publish(ctx, restore.Subject, restore.Event); err == nil {
		t.Error("the export identity published a restore request")
	}
	if _, err := connectAs(t, srv, ids["gateway"]).Publish(context.Background(), restore.Subject, restore.Event); err != nil {
		t.Errorf("the gateway identity could not publish a restore request: %v", err)
	}
	if _, err := admin.Publish(ctx, restore.Subject, restore.Event); err == nil {
		t.Error("the admin identity published a restore request")
	}
}

func TestOpenServerStaysOnLoopback(t *testing.T) {
	if srv, err := natsserver.StartServer(natsserver.ServerConfig{Host: "0.0.0.0", Port: -1, StoreDir: t.TempDir()}); err == nil {
		srv.Shutdown()
		t.Fatal("an open server listened on 0.0.0.0")
	}
}

func connectAs(t *testing.T, srv *natsserver.Server, id bus.Identity) *bus.Conn {
	t.Helper()
	c, err := bus.Connect(srv.ClientURL(), id.Options(), discard())
	if err != nil {
		t.Fatalf("connect as %s: %v", id.Name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testVM is the VM the test request names.
const testVM = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"

var subjects = events.Subjects{}

func restoreRequested(t *testing.T) bus.Out {
	t.Helper()
	m, err := subjects.Message(events.Meta{ID: "r-1", Source: events.Source("gateway"), Time: time.Now().UTC()},
		events.RestoreRequested{RequestID: "r-1", BackupID: "nfs/" + testVM + "/20261129T010000Z", Pool: "lab", RequestedBy: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
