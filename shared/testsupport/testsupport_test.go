package testsupport_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/testsupport"
)

func TestStartNATSHasTheStreams(t *testing.T) {
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js := conn.JetStream()
	for _, name := range []string{events.DefaultEventsStream, events.DefaultProgressStream, events.DefaultDLQStream} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	n := 0
	testsupport.Eventually(t, 10*time.Second, "the third try", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("tried %d times, want 3", n)
	}
}

// recorder is a testing.TB that records Fatal and Skip instead of ending
// the goroutine.
type recorder struct {
	testing.TB
	fatal, skipped string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skipped = fmt.Sprint(args...) }

func TestMissingSkipsOrFails(t *testing.T) {
	t.Setenv(testsupport.NoSkipEnv, "")
	r := &recorder{TB: t}
	testsupport.Missing(r, "no %s", "tar")
	if r.skipped != "no tar" || r.fatal != "" {
		t.Errorf("without %s: skipped %q, failed %q; want a skip", testsupport.NoSkipEnv, r.skipped, r.fatal)
	}
	t.Setenv(testsupport.NoSkipEnv, "1")
	r = &recorder{TB: t}
	testsupport.Missing(r, "no %s", "tar")
	if r.fatal != "no tar" || r.skipped != "" {
		t.Errorf("with %s=1: skipped %q, failed %q; want a failure", testsupport.NoSkipEnv, r.skipped, r.fatal)
	}
}
