package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

func TestHeartbeatsKeepLongHandlerFromRedelivery(t *testing.T) {
	tests := []struct {
		name      string
		heartbeat time.Duration
		wantMulti bool
	}{
		{"heartbeats on", 100 * time.Millisecond, false},
		{"heartbeats off", -1, true}, // proves the test can fail
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := exportConsumer("export")
			cfg.AckWait, cfg.Heartbeat, cfg.Concurrency = 500*time.Millisecond, tt.heartbeat, 2
			var calls counter
			e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
				if calls.add(ev) == 1 {
					select { // hour-long work, scaled: 3 x AckWait
					case <-time.After(1500 * time.Millisecond):
					case <-ctx.Done():
					}
				}
				return nil, nil
			}))
			e.publish(t, exportRequested(t, "nightly"))
			testsupport.Eventually(t, 10*time.Second, "settled", func() bool { return calls.n() >= 1 && e.settled(t, "export")() })
			redelivered := e.consumerInfo(t, "export").NumRedelivered
			if got := calls.n() > 1; got != tt.wantMulti {
				t.Errorf("handler ran %d times (redelivered %d), want redelivery=%v", calls.n(), redelivered, tt.wantMulti)
			}
		})
	}
}

func TestDrainStopsFetchingAndLetsInFlightFinish(t *testing.T) {
	e := newEnv(t)
	started, release := make(chan struct{}), make(chan struct{})
	var calls counter
	stop := e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		if calls.add(ev) == 1 {
			close(started)
		}
		<-release
		return []bus.Out{followUp(t, ev)}, nil
	}))
	e.publish(t, exportRequested(t, "nightly"))
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	e.publish(t, exportRequested(t, "after-stop"))
	select {
	case <-stopped:
		t.Fatal("Consume returned while a handler was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-stopped
	done := subjects.For(events.TypeExportCompleted, "nightly", testVM)
	if n := e.subjectCount(t, events.DefaultEventsStream, done); n != 1 || calls.n() != 1 {
		t.Errorf("after drain: %d follow-ups, %d calls; want 1, 1", n, calls.n())
	}
	if info := e.consumerInfo(t, "export"); info.NumAckPending != 0 || info.NumPending != 1 {
		t.Errorf("after drain: ack pending %d, pending %d; want 0 and 1 (the event published after stop)", info.NumAckPending, info.NumPending)
	}
}

func TestConcurrencyRunsNHandlersAtOnce(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.Concurrency = 3
	var mu sync.Mutex
	inFlight, peak := 0, 0
	all := make(chan struct{})
	var allOnce sync.Once // the fourth handler may also find three in flight
	var calls counter
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == 3 {
			allOnce.Do(func() { close(all) })
		}
		mu.Unlock()
		calls.add(ev)
		select { // each waits until all three run at once
		case <-all:
		case <-ctx.Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil, nil
	}))
	for i := range 4 {
		e.publish(t, exportRequested(t, fmt.Sprintf("job%d", i)))
	}
	testsupport.Eventually(t, 10*time.Second, "4 events handled", func() bool { return calls.n() == 4 && e.settled(t, "export")() })
	mu.Lock()
	defer mu.Unlock()
	if peak != 3 {
		t.Errorf("peak handlers in flight %d, want 3", peak)
	}
}

// TestHelperProcess is the consumer run in a child process by
// TestKilledHandlerIsRedeliveredAfterRestart; it is not a test by itself.
func TestHelperProcess(t *testing.T) {
	url := os.Getenv("XBR_BUS_HELPER_URL")
	if url == "" {
		return // only meaningful as the child process
	}
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: "helper"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg := exportConsumer("export")
	cfg.AckWait = time.Second
	err = conn.Consume(context.Background(), cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		_ = conn.NATS().Publish("helper.started", []byte(ev.Event.ID()))
		_ = conn.NATS().Flush()
		select {} // blocked mid-work until SIGKILL
	}))
	t.Fatal("Consume returned", err)
}

func TestKilledHandlerIsRedeliveredAfterRestart(t *testing.T) {
	e := newEnv(t)
	startedSub, err := e.conn.NATS().SubscribeSync("helper.started")
	if err != nil {
		t.Fatal(err)
	}
	req := exportRequested(t, "nightly")
	e.publish(t, req)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "XBR_BUS_HELPER_URL="+e.srv.ClientURL())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	msg, err := startedSub.NextMsg(20 * time.Second)
	if err != nil || string(msg.Data) != req.Event.ID() {
		t.Fatalf("child did not start handling %s: %v", req.Event.ID(), err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child exit: %v, want killed by SIGKILL", err)
	}

	var calls counter
	cfg := exportConsumer("export")
	cfg.AckWait = time.Second
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		return []bus.Out{followUp(t, ev)}, nil
	}))
	testsupport.Eventually(t, 15*time.Second, "redelivered and settled", func() bool { return calls.n() == 1 && e.settled(t, "export")() })
	attempts, _ := calls.snapshot()
	if attempts[0] != 2 {
		t.Errorf("restarted consumer saw delivery %d, want 2 (a redelivery)", attempts[0])
	}
	done := subjects.For(events.TypeExportCompleted, "nightly", testVM)
	if n := e.subjectCount(t, events.DefaultEventsStream, done); n != 1 {
		t.Errorf("%d follow-ups, want 1", n)
	}
}
