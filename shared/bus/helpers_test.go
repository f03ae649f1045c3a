package bus_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/testsupport"
)

const testVM = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"

var subjects = events.Subjects{}

type env struct {
	srv  *natsserver.Server
	conn *bus.Conn
	logs *testsupport.SyncBuffer
	log  *slog.Logger
}

// newEnv starts an embedded server on a free port with the xbr streams.
func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e := &env{srv: srv, logs: &testsupport.SyncBuffer{}}
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.conn = e.connect(t)
	if err := e.conn.EnsureStreams(context.Background(), bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", e.logs)
		}
	})
	return e
}

func (e *env) connect(t *testing.T) *bus.Conn {
	t.Helper()
	c, err := bus.Connect(e.srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// consume runs Consume in the background; stop cancels it and waits.
func (e *env) consume(t *testing.T, cfg bus.ConsumerConfig, h bus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.conn.Consume(ctx, cfg, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Consume: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// exportRequested builds a valid xbr.export.requested event for job/vm.
func exportRequested(t *testing.T, job string) bus.Out {
	t.Helper()
	p := events.ExportRequested{RunID: "run-1", Job: job, Schedule: "daily", FireTime: time.Unix(1764378000, 0).UTC(),
		VMUUID: testVM, Pool: "lab", Remotes: []string{"nfs"}, Codec: events.CodecGzip}
	m, err := subjects.Message(events.Meta{ID: events.DeriveID("req", job), Source: events.Source("test"), Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// followUp is the deterministic export.completed a handler returns for ev.
func followUp(t *testing.T, ev bus.Event) bus.Out {
	t.Helper()
	req, err := events.PayloadAs[events.ExportRequested](ev.Received)
	if err != nil {
		t.Error(err)
		return bus.Out{}
	}
	p := events.ExportCompleted{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID, Pool: req.Pool,
		Timestamp: "20261129T010000Z", Codec: req.Codec, Size: 10, BytesRead: 20,
		SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs/" + req.VMUUID + "/20261129T010000Z"}}}
	m, err := subjects.Message(events.Meta{ID: events.DeriveID("completed", ev.Event.ID()), Source: events.Source("export"), Time: time.Now()}, p)
	if err != nil {
		t.Error(err)
	}
	return m
}

func (e *env) publish(t *testing.T, m bus.Out) {
	t.Helper()
	if _, err := e.conn.Publish(context.Background(), m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
}

// subjectCount is how many messages stream holds on subject.
func (e *env) subjectCount(t *testing.T, stream, subject string) uint64 {
	t.Helper()
	s, err := e.conn.JetStream().Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

func (e *env) consumerInfo(t *testing.T, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := e.conn.JetStream().Consumer(context.Background(), events.DefaultEventsStream, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// settled: nothing pending or unacknowledged on the durable.
func (e *env) settled(t *testing.T, durable string) func() bool {
	return func() bool {
		i := e.consumerInfo(t, durable)
		return i.NumPending == 0 && i.NumAckPending == 0
	}
}

// counter counts handler calls per attempt, safely.
type counter struct {
	mu       sync.Mutex
	attempts []uint64
	times    []time.Time
}

func (c *counter) add(ev bus.Event) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, ev.Delivery.Attempt)
	c.times = append(c.times, time.Now())
	return len(c.attempts)
}

func (c *counter) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.attempts)
}

func (c *counter) snapshot() ([]uint64, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.attempts...), append([]time.Time(nil), c.times...)
}

func exportConsumer(function string) bus.ConsumerConfig {
	return bus.ConsumerConfig{Function: function, Subjects: []string{subjects.Filter(events.TypeExportRequested)},
		AckWait: 5 * time.Second, Backoff: bus.ExponentialBackoff(20*time.Millisecond, 200*time.Millisecond),
		FetchWait: 500 * time.Millisecond, DrainTimeout: 5 * time.Second}
}
