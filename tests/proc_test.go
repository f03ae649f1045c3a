package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
)

// xbrBin is the binary built once for the whole package.
var xbrBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xbr-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	xbrBin = filepath.Join(dir, "xbr")
	build := exec.Command("go", "build", "-o", xbrBin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building xbr:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is an `xbr serve` process.
type server struct {
	cmd  *exec.Cmd
	done chan error

	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
}

// startServe runs `xbr serve args...` and waits for its "xbr serving" line.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(xbrBin, append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	go s.read(stderr)
	t.Cleanup(func() {
		s.kill(t)
		if strings.Contains(strings.ToLower(s.output()), "permissions violation") {
			t.Errorf("xbr serve was refused a NATS permission it needs:\n%s", s.output())
		}
		for line := range strings.Lines(s.output()) {
			if dup := duplicateKeys([]byte(line)); len(dup) > 0 {
				t.Errorf("xbr serve logged keys %v twice in one line: %s", dup, line)
				break
			}
		}
	})
	if _, ok := s.waitLog(t, "xbr serving", 60*time.Second); !ok {
		t.Fatalf("xbr serve did not start:\n%s", s.output())
	}
	return s
}

// duplicateKeys are the top-level keys a JSON log line holds more than once
// (a log shipper keeps only one of them).
func duplicateKeys(line []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	var dup []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return dup
		}
		key, _ := tok.(string)
		if seen[key] {
			dup = append(dup, key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return dup
		}
	}
	return dup
}

func (s *server) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		s.mu.Lock()
		s.raw.Write(sc.Bytes())
		s.raw.WriteByte('\n')
		if m != nil {
			s.lines = append(s.lines, m)
		}
		s.mu.Unlock()
	}
	s.done <- s.cmd.Wait()
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// waitLog polls for a log line whose msg is msg.
func (s *server) waitLog(t *testing.T, msg string, timeout time.Duration) (map[string]any, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, l := range s.lines {
			if l["msg"] == msg {
				s.mu.Unlock()
				return l, true
			}
		}
		s.mu.Unlock()
		if s.exited() {
			return nil, false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, false
}

// firstLog is the msg of the first log line, "" before there is one.
func (s *server) firstLog() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		return ""
	}
	return s.lines[0]["msg"]
}

func (s *server) exited() bool { return s.cmd.ProcessState != nil }

// natsURL is where the server's backbone listens, with the login of the
// client identity when the server keeps one in its --data-dir (the embedded
// server takes no anonymous client).
func (s *server) natsURL(t *testing.T) string {
	raw := s.rawNATSURL(t)
	data := flagValue(s.cmd.Args, "--data-dir")
	if data == "" {
		return raw
	}
	id, err := bus.LoadIdentity(bus.IdentitiesDir(data), events.IdentityClient)
	if err != nil {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("nats URL %q: %v", raw, err)
	}
	u.User = url.UserPassword(id.User, id.Password)
	return u.String()
}

// stop sends SIGTERM and returns the exit error once the process ended.
func (s *server) stop(t *testing.T, timeout time.Duration) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("xbr serve did not stop within %s after SIGTERM:\n%s", timeout, s.output())
	}
	return nil
}

func (s *server) kill(t *testing.T) {
	if s.cmd.Process == nil {
		return
	}
	select {
	case err := <-s.done:
		s.done <- err
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	s.done <- <-s.done // keep the exit for later callers
}

// xbr runs the CLI and returns its stdout, stderr and exit code.
func xbr(t *testing.T, ctx context.Context, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, xbrBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("xbr %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}
