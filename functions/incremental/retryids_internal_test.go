package incremental

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/testsupport"
)

// TestRawRetryEventsHaveTheirOwnIDs: the raw retry after vhd.ErrFormat runs
// w.attempt again for the same job, delivery and attempt number n, and a
// failed attempt is followed by the next one in the same delivery. Their
// incremental.started and incremental.progress events must not get ids an
// earlier attempt published: the bus (Nats-Msg-Id, duplicate window of an
// hour) drops them as duplicates, and the retry's start and first progress
// reports are never seen. (The raw retry reused every id; a later attempt
// reused the progress ids, which had no attempt number.)
func TestRawRetryEventsHaveTheirOwnIDs(t *testing.T) {
	pub := &testsupport.IDPublisher{}
	w := newWorker(Deps{Publisher: pub, ProgressEvery: 5 * time.Millisecond})
	j := &job{req: events.IncrementalRequested{RunID: "run", Job: "job", Schedule: "nightly", VMUUID: "6b2c0000-0000-4000-8000-000000000001",
		VMName: "vm", Pool: "lab", Remote: "repo"}, delivery: 1}
	ctx := context.Background()
	seen := map[string]string{}
	attempt := func(n int, raw bool) {
		j.raw = raw
		w.started(ctx, j, n)
		p := w.progress(ctx, j)
		ids := pub.Take(4)
		p.stop()
		ids = append(ids, pub.Take(0)...)
		what := fmt.Sprintf("attempt %d (raw %v)", n, raw)
		for _, id := range ids {
			if by, ok := seen[id]; ok {
				t.Fatalf("%s published event id %s, which %s published already", what, id, by)
			}
			seen[id] = what
		}
	}
	attempt(1, false) // the format=vhd attempt, which fails with vhd.ErrFormat
	attempt(1, true)  // the raw retry (worker.go)
	attempt(2, true)  // the next attempt, after the raw retry failed too
}
