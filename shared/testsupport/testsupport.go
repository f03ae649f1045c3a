package testsupport

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// pollEvery is how often Eventually tries its condition again.
const pollEvery = 20 * time.Millisecond

// Eventually polls cond until it holds, and fails t (naming what it waited
// for) when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// NoSkipEnv is the variable that turns every skip into a failure (CI).
const NoSkipEnv = "XBR_TEST_NO_SKIP"

// NoSkip reports whether a missing prerequisite must fail the test.
func NoSkip() bool { return os.Getenv(NoSkipEnv) == "1" }

// Missing reports a missing prerequisite (a tool, a browser, a loop
// device): t fails under XBR_TEST_NO_SKIP=1 and is skipped otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if NoSkip() {
		t.Fatal(msg)
		return
	}
	t.Skip(msg)
}

// StartNATS starts an embedded JetStream server on loopback in a temporary
// directory, connects to it and creates xbr's streams; both stop when t
// ends.
func StartNATS(t testing.TB) *bus.Conn {
	t.Helper()
	conn := StartBareNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// StartBareNATS is StartNATS without the streams.
func StartBareNATS(t testing.TB) *bus.Conn {
	t.Helper()
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir()})
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

// Deliver is m as a consumer receives it on delivery attempt of at most max
// (0: unknown): encoded to its wire form and decoded again.
func Deliver(t testing.TB, m bus.Out, attempt, max uint64) bus.Event {
	t.Helper()
	hdr, data, err := events.Encode(m.Event)
	if err != nil {
		t.Fatal(err)
	}
	r, err := events.Decode(m.Subject, hdr, data)
	if err != nil {
		t.Fatal(err)
	}
	return bus.Event{Received: r, Delivery: bus.Delivery{Attempt: attempt, Max: max}}
}

// OpenDir is the fn.Opener of tests whose remotes are all directories: it
// opens c as a directory remote without linking the assembly.
func OpenDir(_ context.Context, c config.Remote) (remote.Remote, error) {
	if c.Type != config.RemoteDir {
		return nil, fmt.Errorf("remote %s: type %q: OpenDir opens directories only", c.Name, c.Type)
	}
	return dir.New(c.Name, c.Path)
}
