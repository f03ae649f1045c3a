package export

import (
	"context"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/testsupport"
)

// TestAttemptsEventsHaveTheirOwnIDs: the attempts of one VM in one delivery
// (a failed attempt is followed by the next) must not publish an
// export.started or export.progress id an earlier one published: the bus
// drops a duplicate id for an hour, so the later attempt's start or progress
// would never be seen. The progress ids had no attempt number.
func TestAttemptsEventsHaveTheirOwnIDs(t *testing.T) {
	pub := &testsupport.IDPublisher{}
	w := newWorker(Deps{Publisher: pub, ProgressEvery: 5 * time.Millisecond}.withDefaults())
	j := &job{req: events.ExportRequested{RunID: "run", Job: "job", Schedule: "nightly", VMUUID: "6b2c0000-0000-4000-8000-000000000001",
		VMName: "vm", Pool: "lab", Remotes: []string{"nfs"}}, delivery: 1}
	ctx := context.Background()
	seen := map[string]int{}
	for n := 1; n <= 2; n++ {
		w.started(ctx, j, n)
		p := w.progress(ctx, j, 1<<20)
		ids := pub.Take(4)
		p.stop()
		ids = append(ids, pub.Take(0)...)
		for _, id := range ids {
			if by, ok := seen[id]; ok {
				t.Fatalf("attempt %d published event id %s, which attempt %d published already", n, id, by)
			}
			seen[id] = n
		}
	}
	if len(seen) < 8 {
		t.Fatalf("%d event ids published by two attempts, want at least 8", len(seen))
	}
}
