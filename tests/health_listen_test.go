package tests

import (
	"io"
	"net/http"
	"testing"
	"time"

	"xbr/shared/testsupport"
)

// TestHealthListenReadyWithEveryFunction runs the demo (every function, the
// embedded NATS) with --health-listen: /readyz turns 200 only once every
// durable consumer that events.Roles declares is bound in the process, so
// this fails if a role names a durable its function never consumes.
func TestHealthListenReadyWithEveryFunction(t *testing.T) {
	s := startServe(t, nil, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--health-listen", "127.0.0.1:0")
	line, ok := s.waitLog(t, "serving health probes", 10*time.Second)
	if !ok {
		t.Fatalf("no health listener line:\n%s", s.output())
	}
	readyz, _ := line["readyz"].(string)
	healthz, _ := line["healthz"].(string)
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last /readyz answer: %s", last)
		}
	}()
	testsupport.Eventually(t, 30*time.Second, "readyz 200 with every function", func() bool {
		code, body := probeURL(readyz)
		last = body
		return code == http.StatusOK
	})
	if code, body := probeURL(healthz); code != http.StatusOK {
		t.Errorf("healthz: %d %q (last readyz %q)", code, body, last)
	}
}

func probeURL(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
