package natsserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
)

// TestAFunctionCannotPublishWhatItMayNotProduce: the timer identity may
// publish schedule.due only, but it owns the KV bucket xbr_timer, and its
// grant ($JS.API.STREAM.UPDATE.KV_xbr_timer) lets it set any configuration
// on that bucket's stream, republish included. The server republishes
// what the stream stores without checking the owner's publish permissions,
// so a put into its own bucket becomes an xbr.restore.requested in
// XBR_EVENTS, with the headers the timer chose (a gateway source): the
// restore function would act on it.
func TestAFunctionCannotPublishWhatItMayNotProduce(t *testing.T) {
	ids, err := bus.EnsureIdentities(t.TempDir(), []string{"admin", "timer", events.IdentityAuditor})
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := connectAs(t, srv, ids["admin"]).EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	timer := connectAs(t, srv, ids["timer"])
	restore := restoreRequested(t)
	denied, cancelDenied := context.WithTimeout(ctx, 2*time.Second)
	defer cancelDenied()
	if _, err := timer.Publish(denied, restore.Subject, restore.Event); err == nil {
		t.Fatal("the timer published a restore request directly")
	}
	if _, err := timer.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: events.BucketTimer, History: 1}); err != nil {
		t.Fatalf("the timer cannot create its bucket: %v", err)
	}
	st, err := timer.JetStream().Stream(ctx, "KV_"+events.BucketTimer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.RePublish = &jetstream.RePublish{Source: "$KV." + events.BucketTimer + ".>", Destination: "xbr.restore.requested.>"}
	update, cancelUpdate := context.WithTimeout(ctx, 3*time.Second) // a denied request gets no answer
	defer cancelUpdate()
	if _, err := timer.JetStream().UpdateStream(update, cfg); err != nil {
		return // the grant or the server refuses the republish: as it should be
	}
	if _, err := timer.Publish(ctx, "$KV."+events.BucketTimer+".from-timer", restore.Event); err != nil {
		t.Fatalf("the timer cannot write its own bucket: %v", err)
	}
	auditor := connectAs(t, srv, ids[events.IdentityAuditor])
	for {
		s, err := auditor.JetStream().Stream(ctx, events.DefaultEventsStream)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := s.GetLastMsgForSubject(ctx, "xbr.restore.requested.from-timer"); err == nil {
			rec, err := subjects.Decode(m.Subject, m.Header, m.Data)
			if err != nil {
				return // the copy is not an event: nothing acts on it
			}
			t.Fatalf("the timer identity put a %s (source %s, an allowed producer: %v) on %s in %s",
				rec.Event.Type(), rec.Event.Source(), events.AllowedSource(rec.Type(), rec.Event.Source()), m.Subject,
				events.DefaultEventsStream)
		}
		select {
		case <-ctx.Done():
			return // nothing reached XBR_EVENTS
		case <-time.After(50 * time.Millisecond):
		}
	}
}
