package runs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// TestRetry: a worker's attempts at one VM stop at a success, a permanent
// error or the job's retries, waiting a doubling back-off capped at
// MaxRetryBackoff.
func TestRetry(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		retries  int
		fail     func(n int) error
		attempts int
		waits    string
		err      error
	}{
		{"success at once", 3, func(int) error { return nil }, 1, "[]", nil},
		{"success on the third", 5, func(n int) error {
			if n < 3 {
				return boom
			}
			return nil
		}, 3, "[40m0s 1h0m0s]", nil},
		{"retries spent", 2, func(int) error { return boom }, 3, "[40m0s 1h0m0s]", boom},
		{"permanent error", 5, func(int) error { return bus.Permanent(boom) }, 1, "[]", boom},
	} {
		var waits []time.Duration
		wait := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		job := config.Job{Retries: tc.retries, RetryBackoff: 40 * time.Minute}
		res, n, err := runs.Retry(context.Background(), job, wait, func(int, time.Duration, error) {},
			func(n int) (int, error) { return n, tc.fail(n) })
		if n != tc.attempts || res != n || !errors.Is(err, tc.err) || fmt.Sprint(waits) != tc.waits {
			t.Errorf("%s: result %d after %d attempts, %v, waits %v; want %d attempts, %v, waits %s",
				tc.name, res, n, err, waits, tc.attempts, tc.err, tc.waits)
		}
	}
}
