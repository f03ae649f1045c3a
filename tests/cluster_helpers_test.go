package tests

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
)

// startCluster runs a three-node NATS JetStream cluster in the test process
// (each node with its own store, routes on loopback).
func startCluster(t *testing.T) *natsserver.Cluster {
	t.Helper()
	c, err := natsserver.StartCluster(natsserver.ClusterConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// clusterConfig is a configuration on the cluster with streams (and KV
// buckets) replicated three times.
func clusterConfig(p *pool, c *natsserver.Cluster, remotes, jobs string) string {
	return fmt.Sprintf("nats:\n  url: %s\n  stream_replicas: 3\n", c.URL()) + configYAML(p, remotes, jobs)
}

// serveFunctions starts one `xbr serve --functions fn` process on the cluster.
func serveFunctions(t *testing.T, c *natsserver.Cluster, env []string, cfg, fn string) *server {
	t.Helper()
	return startServe(t, env, "--config", cfg, "--functions", fn, "--nats", c.URL(),
		"--data-dir", t.TempDir(), "--http", "127.0.0.1:0")
}

// clusterConn is a client connection to every node of c.
func clusterConn(t *testing.T, c *natsserver.Cluster) *bus.Conn {
	t.Helper()
	conn, err := bus.Connect(c.URL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// exitResult is how a CLI process ended.
type exitResult struct {
	stdout, stderr string
	code           int
	err            error
}

// xbrAsync runs the CLI in the background; its result arrives on the channel.
func xbrAsync(t *testing.T, ctx context.Context, env []string, args ...string) <-chan exitResult {
	t.Helper()
	cmd := exec.CommandContext(ctx, xbrBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan exitResult, 1)
	go func() {
		err := cmd.Wait()
		res := exitResult{stdout: out.String(), stderr: errb.String(), err: err}
		if ee, ok := err.(*exec.ExitError); ok {
			res.code, res.err = ee.ExitCode(), nil
		}
		ch <- res
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return ch
}

// history reads every event stored in XBR_EVENTS so far.
func history(t *testing.T, ctx context.Context, conn *bus.Conn) []events.Received {
	t.Helper()
	s, err := conn.JetStream().Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Received
	if info.State.Msgs == 0 {
		return out
	}
	w, err := conn.Watch(ctx, bus.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("reading the history: %v", err)
		}
		if r.Err != nil {
			t.Errorf("invalid event at seq %d: %v", r.Seq, r.Err)
		} else {
			out = append(out, r.Event)
		}
		if r.Seq >= info.State.LastSeq {
			return out
		}
	}
}

// checkReplicas asserts that every stream on the cluster, KV buckets
// included, keeps want copies.
func checkReplicas(t *testing.T, ctx context.Context, conn *bus.Conn, want int) {
	t.Helper()
	names := conn.JetStream().StreamNames(ctx)
	n := 0
	for name := range names.Name() {
		s, err := conn.JetStream().Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got := s.CachedInfo().Config.Replicas; got != want {
			t.Errorf("stream %s keeps %d copies, want %d (nats.stream_replicas)", name, got, want)
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no stream on the cluster")
	}
}

// streamLeader is the index of the cluster node leading stream name.
func streamLeader(t *testing.T, ctx context.Context, c *natsserver.Cluster, conn *bus.Conn, name string) int {
	t.Helper()
	s, err := conn.JetStream().Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("stream %s: info %+v, err %v", name, info, err)
	}
	for i := range c.Size() {
		if c.ServerName(i) == info.Cluster.Leader {
			return i
		}
	}
	t.Fatalf("stream %s: leader %q is not a node of the cluster", name, info.Cluster.Leader)
	return -1
}

// holdsTempFile reports whether process pid has an unfinished upload
// (a *.tmp file) under root open.
func holdsTempFile(pid int, root string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err == nil && strings.HasPrefix(target, root) && strings.HasSuffix(target, ".tmp") {
			return true
		}
	}
	return false
}

// logCount counts the log lines of s whose msg is msg and whose key is value.
func logCount(s *server, msg, key, value string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if l["msg"] == msg && fmt.Sprint(l[key]) == value {
			n++
		}
	}
	return n
}

// clusterTimeout bounds one scale-out test.
const clusterTimeout = 3 * time.Minute
