package bus_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/testsupport"
)

// TestStreamsLimitsAndAuditProtection: the byte limits of the topology are
// applied, and the history stream refuses message deletes and purges — also
// when it already existed without that protection (an upgrade), which
// EnsureStreams updates in place, keeping its events.
func TestStreamsLimitsAndAuditProtection(t *testing.T) {
	conn := bareBackbone(t)
	ctx := context.Background()
	js := conn.JetStream()
	// An XBR_EVENTS created by an older xbr: no deny flags, one event in it.
	cfg := bus.Topology{}.StreamConfigs()[0]
	cfg.DenyDelete, cfg.DenyPurge = false, false
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "xbr.run.started.nightly.r1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	topo := bus.Topology{EventsMaxBytes: 64 << 20, ProgressMaxBytes: 8 << 20, DLQMaxBytes: 1 << 20}
	if err := conn.EnsureStreams(ctx, topo); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{events.DefaultEventsStream: 64 << 20, events.DefaultProgressStream: 8 << 20, events.DefaultDLQStream: 1 << 20}
	for name, maxBytes := range want {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		c := s.CachedInfo().Config
		if c.MaxBytes != maxBytes {
			t.Errorf("%s: MaxBytes %d, want %d", name, c.MaxBytes, maxBytes)
		}
		audit := name == events.DefaultEventsStream
		if c.DenyDelete != audit || c.DenyPurge != audit {
			t.Errorf("%s: DenyDelete %v, DenyPurge %v; want %v (only the history is protected)", name, c.DenyDelete, c.DenyPurge, audit)
		}
	}
	st, err := js.Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("XBR_EVENTS holds %d events after the update, want the 1 it had", n)
	}
	if err := st.DeleteMsg(ctx, 1); err == nil {
		t.Error("deleting an event from XBR_EVENTS succeeded")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("purging XBR_EVENTS succeeded")
	}
	if err := conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Errorf("EnsureStreams again without byte limits: %v", err)
	}
	s, _ := js.Stream(ctx, events.DefaultEventsStream)
	if c := s.CachedInfo().Config; c.MaxBytes != -1 {
		t.Errorf("MaxBytes after the limit was removed: %d, want -1 (none)", c.MaxBytes)
	}
}

// bareBackbone is a connection to a new embedded server on which no stream
// exists yet (newEnv's has xbr's streams).
func bareBackbone(t *testing.T) *bus.Conn {
	t.Helper()
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn, err := bus.Connect(srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestEnsureStreamsLeavesAnotherOwnersStreamAlone: on a shared backbone a
// stream of the same name may belong to another xbr installation (another
// prefix) or to another application. EnsureStreams refuses it, naming the
// stream and a subject that is not its own, and leaves it as it was (an
// update would take the other owner's subjects away: its publishes would
// find no stream). A stream of its own prefix with fewer subjects (an older
// xbr) is still updated.
func TestEnsureStreamsLeavesAnotherOwnersStreamAlone(t *testing.T) {
	other := func(prefix string) func(*testing.T) jetstream.StreamConfig {
		return func(t *testing.T) jetstream.StreamConfig {
			s, err := events.NewSubjects(prefix)
			if err != nil {
				t.Fatal(err)
			}
			return bus.Topology{Subjects: s}.StreamConfigs()[0]
		}
	}
	for _, tc := range []struct {
		name, prefix string
		existing     func(*testing.T) jetstream.StreamConfig
		refused      string // a subject the error names; "" = accepted
	}{
		{"another installation", "teamb", other("xbr"), `"xbr.schedule.due.>"`},
		{"an installation under a longer prefix", "acme", other("acme.backup"), `"acme.backup.schedule.due.>"`},
		{"an installation under a shorter prefix", "acme.backup", other("acme"), `"acme.schedule.due.>"`},
		{"another application", "xbr", func(*testing.T) jetstream.StreamConfig {
			return jetstream.StreamConfig{Name: events.DefaultEventsStream, Subjects: []string{"orders.>"}}
		}, `"orders.>"`},
		{"an older xbr of the same prefix", "xbr", func(*testing.T) jetstream.StreamConfig {
			return jetstream.StreamConfig{Name: events.DefaultEventsStream, Subjects: []string{"xbr.export.requested.>"}}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := bareBackbone(t)
			ctx := context.Background()
			js := conn.JetStream()
			before := tc.existing(t)
			if _, err := js.CreateStream(ctx, before); err != nil {
				t.Fatal(err)
			}
			s, err := events.NewSubjects(tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			err = conn.EnsureStreams(ctx, bus.Topology{Subjects: s})
			st, serr := js.Stream(ctx, events.DefaultEventsStream)
			if serr != nil {
				t.Fatal(serr)
			}
			got := st.CachedInfo().Config.Subjects
			if tc.refused == "" {
				if err != nil || !slices.Equal(got, s.LifecycleFilters()) {
					t.Errorf("own stream not updated: %v, subjects %v", err, got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), events.DefaultEventsStream) || !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("EnsureStreams with prefix %s = %v, want a refusal naming %s and %s", tc.prefix, err,
					events.DefaultEventsStream, tc.refused)
			}
			if !slices.Equal(got, before.Subjects) {
				t.Errorf("the other owner's stream was changed: subjects %v, were %v", got, before.Subjects)
			}
		})
	}
}

// TestEnsureStreamsWithALoginThatMayNotReadStreamInfo: an admin login
// granted by an earlier `xbr nats permissions` may create and update the
// streams but not read their info, which the owner check needs. Upgrading
// xbr must not stop it from starting: the streams are ensured as before
// (here an older XBR_EVENTS gets its audit protection) and the log says,
// once, why they were not checked for another owner.
func TestEnsureStreamsWithALoginThatMayNotReadStreamInfo(t *testing.T) {
	role, ok := events.RoleOf(events.IdentityAdmin)
	if !ok {
		t.Fatal("no admin role")
	}
	earlier := role.Grant(events.Subjects{}, events.StreamNames{})
	earlier.Publish = slices.DeleteFunc(earlier.Publish, func(s string) bool { return strings.Contains(s, ".STREAM.INFO.") })
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir(), Users: []natsserver.User{
		{Name: "admin", Password: "admin-pw", Grant: earlier},
		{Name: "operator", Password: "operator-pw", Grant: events.Grant{Publish: []string{">"}, Subscribe: []string{">"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	connect := func(user, password string, log *slog.Logger) *bus.Conn {
		t.Helper()
		c, err := bus.Connect(srv.ClientURL(), bus.ConnectOptions{User: user, Password: password}, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	ctx := context.Background()
	operator := connect("operator", "operator-pw", slog.New(slog.DiscardHandler)).JetStream()
	older := bus.Topology{}.StreamConfigs()[0]
	older.DenyDelete, older.DenyPurge = false, false
	if _, err := operator.CreateStream(ctx, older); err != nil {
		t.Fatal(err)
	}

	logs := new(testsupport.SyncBuffer)
	admin := connect("admin", "admin-pw", slog.New(slog.NewTextHandler(logs, nil)))
	if err := admin.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatalf("EnsureStreams as an admin of an earlier grant: %v", err)
	}
	if n := strings.Count(logs.String(), "streams not checked for another owner"); n != 1 {
		t.Errorf("%d warnings that the streams were not checked, want 1:\n%s", n, logs)
	}
	st, err := operator.Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.CachedInfo().Config; !c.DenyDelete || !c.DenyPurge {
		t.Errorf("the older %s was not updated: deny delete %v, deny purge %v", events.DefaultEventsStream, c.DenyDelete, c.DenyPurge)
	}
	for _, name := range []string{events.DefaultProgressStream, events.DefaultDLQStream} {
		if _, err := operator.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}
