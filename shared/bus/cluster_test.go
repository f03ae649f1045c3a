package bus_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/testsupport"
)

// TestClusterKeepsReplicatedStreamsThroughTheLossOfANode starts the
// in-process three-node cluster, creates xbr's streams with three replicas
// and a replicated durable consumer, stops the node leading the events
// stream, and checks that publishing, consuming and acking go on.
func TestClusterKeepsReplicatedStreamsThroughTheLossOfANode(t *testing.T) {
	c, err := natsserver.StartCluster(natsserver.ClusterConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	conn, err := bus.Connect(c.URL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topo := bus.Topology{Replicas: 3}
	if err := conn.EnsureStreams(ctx, topo); err != nil {
		t.Fatal(err)
	}
	stream := topo.StreamConfigs()[0].Name
	info := streamInfo(t, ctx, conn, stream)
	if got := 1 + len(info.Cluster.Replicas); got != 3 {
		t.Fatalf("stream %s has %d copies, want 3", stream, got)
	}
	cfg := exportConsumer("cluster")
	cons, err := conn.EnsureConsumer(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ci, err := cons.Info(ctx); err != nil || 1+len(ci.Cluster.Replicas) != 3 {
		t.Fatalf("consumer copies: info %+v, err %v; want 3 copies", ci, err)
	}

	first := exportRequested(t, "before")
	if _, err := conn.Publish(ctx, first.Subject, first.Event); err != nil {
		t.Fatal(err)
	}
	leader := serverIndex(t, c, info.Cluster.Leader)
	c.Stop(leader)

	second := exportRequested(t, "after")
	// Each attempt has its own deadline: one that waits for the new leader
	// must not use up the whole budget (the election is slow on a loaded CI).
	testsupport.Eventually(t, 90*time.Second, "a publish accepted after the leader stopped", func() bool {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		_, err := conn.Publish(actx, second.Subject, second.Event)
		return err == nil
	})
	if info := streamInfo(t, ctx, conn, stream); info.State.Msgs != 2 || info.Cluster.Leader == "" {
		t.Fatalf("after losing a node: %d messages, leader %q; want 2 and a new leader", info.State.Msgs, info.Cluster.Leader)
	}
	got := fetchAll(t, ctx, conn, stream, cfg.Function, 2)
	if got != 2 {
		t.Fatalf("consumed and acked %d events after losing a node, want 2", got)
	}
}

func streamInfo(t *testing.T, ctx context.Context, conn *bus.Conn, name string) *jetstream.StreamInfo {
	t.Helper()
	var info *jetstream.StreamInfo
	testsupport.Eventually(t, 90*time.Second, "stream info of "+name, func() bool {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		s, err := conn.JetStream().Stream(actx, name)
		if err != nil {
			return false
		}
		info, err = s.Info(actx)
		return err == nil && info.Cluster != nil && info.Cluster.Leader != ""
	})
	return info
}

func serverIndex(t *testing.T, c *natsserver.Cluster, name string) int {
	t.Helper()
	for i := range c.Size() {
		if c.ServerName(i) == name {
			return i
		}
	}
	t.Fatalf("no server named %q in the cluster", name)
	return -1
}

// fetchAll fetches and acks up to want messages of durable, retrying while
// the consumer moves to its new leader.
func fetchAll(t *testing.T, ctx context.Context, conn *bus.Conn, stream, durable string, want int) int {
	t.Helper()
	acked := 0
	testsupport.Eventually(t, 90*time.Second, "the events to be consumed", func() bool {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		cons, err := conn.JetStream().Consumer(actx, stream, durable)
		if err != nil {
			return false
		}
		batch, err := cons.Fetch(want-acked, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return false
		}
		for m := range batch.Messages() {
			if m.DoubleAck(actx) == nil {
				acked++
			}
		}
		return acked >= want
	})
	return acked
}

// TestConcurrentEnsureOnAClusterAllSucceed starts what every xbr process
// does at start-up — create the streams, a durable consumer and a KV bucket,
// all replicated three times — from three connections at once, as replicas
// started together do. Every one must succeed: on the cluster, the losers of
// such a race get no answer and must try again.
func TestConcurrentEnsureOnAClusterAllSucceed(t *testing.T) {
	c, err := natsserver.StartCluster(natsserver.ClusterConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	// Concurrent creates of one stream on a cluster can each wait out an
	// attempt (ensureAttemptTimeout) before the winner's config is there:
	// seven streams and buckets make that up to about 20 s on a loaded
	// machine. The bound only catches a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := make(chan struct{})
	errs := make(chan error, c.Size())
	for i := range c.Size() {
		conn, err := bus.Connect(c.ClientURL(i), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		go func() {
			<-start
			errs <- ensureAll(ctx, conn)
		}()
	}
	close(start)
	for range c.Size() {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func ensureAll(ctx context.Context, conn *bus.Conn) error {
	if err := conn.EnsureStreams(ctx, bus.Topology{Replicas: 3}); err != nil {
		return err
	}
	if _, err := conn.EnsureConsumer(ctx, exportConsumer("race")); err != nil {
		return err
	}
	_, err := conn.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: "race", History: 1, Replicas: 3})
	return err
}
