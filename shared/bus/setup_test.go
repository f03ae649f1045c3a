package bus_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

func TestEnsureStreamsConsumersAndKVAreIdempotent(t *testing.T) {
	e := newEnv(t) // has run EnsureStreams once
	ctx := context.Background()
	topo := bus.Topology{EventsMaxAge: 48 * time.Hour, DuplicateWindow: 10 * time.Minute}
	for range 2 {
		if err := e.conn.EnsureStreams(ctx, topo); err != nil {
			t.Fatal(err)
		}
	}
	s, err := e.conn.JetStream().Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != 48*time.Hour || cfg.Duplicates != 10*time.Minute || cfg.Storage != jetstream.FileStorage ||
		cfg.Replicas != 1 || !slices.Equal(cfg.Subjects, subjects.LifecycleFilters()) {
		t.Errorf("XBR_EVENTS config not updated: %+v", cfg)
	}
	names, err := streamNames(ctx, e.conn.JetStream())
	want := []string{"KV_xbr_gateway_seen", "KV_xbr_healthcheck", "KV_xbr_runs", "KV_xbr_timer", "XBR_DLQ", "XBR_EVENTS", "XBR_PROGRESS"}
	if err != nil || !slices.Equal(names, want) {
		t.Errorf("streams %v, %v; want %v (the buckets too)", names, err, want)
	}
	if st, err := e.conn.JetStream().KeyValue(ctx, events.BucketRuns); err != nil {
		t.Error(err)
	} else if s, err := st.Status(ctx); err != nil || s.TTL() != bus.RunsMaxAge {
		t.Errorf("xbr_runs status %v, %v; want TTL %v", s, err, bus.RunsMaxAge)
	}

	cc := exportConsumer("export")
	for range 2 {
		if _, err := e.conn.EnsureConsumer(ctx, cc); err != nil {
			t.Fatal(err)
		}
	}
	cc.MaxDeliver = 9
	if _, err := e.conn.EnsureConsumer(ctx, cc); err != nil {
		t.Fatal(err)
	}
	if info := e.consumerInfo(t, "export"); info.Config.MaxDeliver != 9 || info.Config.AckPolicy != jetstream.AckExplicitPolicy {
		t.Errorf("consumer config %+v", info.Config)
	}
	for range 2 {
		kv, err := e.conn.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: "xbr_runs", History: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "run-1", []byte("running")); err != nil {
			t.Fatal(err)
		}
	}
}

func streamNames(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var out []string
	l := js.StreamNames(ctx)
	for n := range l.Name() {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, l.Err()
}

func TestEnsureRejectsBadNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.conn.EnsureStreams(ctx, bus.Topology{Streams: events.StreamNames{Events: "XBR EVENTS"}}); err == nil ||
		!strings.Contains(err.Error(), `"XBR EVENTS"`) {
		t.Errorf("bad stream name: %v", err)
	}
	for _, cfg := range []bus.ConsumerConfig{
		{Function: "ex.port", Subjects: []string{"xbr.>"}},
		{Function: "export"},
	} {
		if _, err := e.conn.EnsureConsumer(ctx, cfg); err == nil {
			t.Errorf("EnsureConsumer(%+v) accepted", cfg)
		}
	}
}

func TestWatchReadsTheStreamInOrder(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, second := exportRequested(t, "a"), exportRequested(t, "b")
	e.publish(t, first)
	if _, err := e.conn.JetStream().Publish(ctx, subjects.For(events.TypeExportRequested, "junk"), []byte("junk")); err != nil {
		t.Fatal(err)
	}
	e.publish(t, second)
	w, err := e.conn.Watch(ctx, bus.WatchOptions{Subjects: []string{subjects.Filter(events.TypeExportRequested)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var got []string
	for range 3 {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Err != nil {
			got = append(got, "error")
			continue
		}
		got = append(got, r.Event.Event.ID())
	}
	if want := []string{first.Event.ID(), "error", second.Event.ID()}; !slices.Equal(got, want) {
		t.Errorf("watch read %v, want %v", got, want)
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := w.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next on an idle stream: %v, want the context's deadline", err)
	}
}

func TestConnectWithTokenNeverLeaksIt(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, Authorization: "s3cret-token"})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	logs := &testsupport.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if _, err := bus.Connect(ns.ClientURL(), bus.ConnectOptions{Token: "wrong-token"}, log); err == nil ||
		strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("wrong token: %v", err)
	}
	c, err := bus.Connect(ns.ClientURL(), bus.ConnectOptions{Token: "s3cret-token"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.NATS().IsConnected() {
		t.Error("not connected")
	}
	if l := logs.String(); strings.Contains(l, "s3cret") || !strings.Contains(l, "connected to nats") {
		t.Errorf("logs leak or lack the connection:\n%s", l)
	}
	if _, err := bus.Connect("nats://user:pw-secret@127.0.0.1:1", bus.ConnectOptions{}, log); err == nil ||
		strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("URL password leaked or no error: %v", err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := bus.ExponentialBackoff(time.Second, 10*time.Second)
	for delivery, want := range map[uint64]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second,
		3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 1000: 10 * time.Second} {
		if got := b(delivery); got != want {
			t.Errorf("backoff(%d) = %s, want %s", delivery, got, want)
		}
	}
}

func TestDrainTimeoutCancelsStuckHandlers(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.DrainTimeout = 100 * time.Millisecond
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	stop := e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		close(started)
		<-ctx.Done()
		cancelled <- ctx.Err()
		return nil, ctx.Err()
	}))
	e.publish(t, exportRequested(t, "nightly"))
	<-started
	stop()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context: %v", err)
	}
	// The cancelled handler's event was nak'ed, so a new consumer gets it at
	// once, long before the 30 s AckWait would have redelivered it.
	var calls counter
	cfg.AckWait = 30 * time.Second
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		return nil, nil
	}))
	testsupport.Eventually(t, 10*time.Second, "redelivered after nak", func() bool { return calls.n() == 1 })
	if attempts, _ := calls.snapshot(); attempts[0] != 2 {
		t.Errorf("delivery %d, want 2", attempts[0])
	}
}
