package tests

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"xbr/events"
	"xbr/shared/fn"
	"xbr/shared/integrity"
)

// discoverQueries asks $SRV.PING.xbr and $SRV.INFO.xbr through nc (a
// client or auditor connection) and wants every query of events.Endpoints
// listed by the instances of the xbr service that answer.
func discoverQueries(t *testing.T, nc *nats.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ping, err := nc.RequestWithContext(ctx, "$SRV.PING."+events.ServiceName, nil)
	if err != nil {
		t.Fatalf("%s: $SRV.PING.%s: %v", nc.Opts.User, events.ServiceName, err)
	}
	var p micro.Ping
	if err := json.Unmarshal(ping.Data, &p); err != nil || p.Name != events.ServiceName || p.Version != events.ServiceVersion {
		t.Fatalf("ping answer %s (%v), want service %s %s", ping.Data, err, events.ServiceName, events.ServiceVersion)
	}
	seen := infoEndpoints(t, ctx, nc)
	for _, e := range events.Endpoints() {
		if got, ok := seen[e.MicroName()]; !ok {
			t.Errorf("no instance of %s lists endpoint %s (seen %v)", events.ServiceName, e.MicroName(), seen)
		} else if got.Subject != e.Subject(events.Subjects{}) || got.QueueGroup != events.APIQueue {
			t.Errorf("endpoint %s: %+v, want subject %s in queue group %s", e.Name, got, e.Subject(events.Subjects{}), events.APIQueue)
		}
	}
}

// infoEndpoints collects the endpoints of every instance answering
// $SRV.INFO.xbr until all queries were seen or ctx ends.
func infoEndpoints(t *testing.T, ctx context.Context, nc *nats.Conn) map[string]micro.EndpointInfo {
	t.Helper()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest("$SRV.INFO."+events.ServiceName, inbox, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[string]micro.EndpointInfo{}
	for len(seen) < len(events.Endpoints()) {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return seen
		}
		var info micro.Info
		if err := json.Unmarshal(m.Data, &info); err != nil || info.Name != events.ServiceName {
			t.Fatalf("info answer %s: %v", m.Data, err)
		}
		for _, e := range info.Endpoints {
			seen[e.Name] = e
		}
	}
	return seen
}

// auditorAsksOnlyReadOnlyQueries: through the real permissions the auditor
// gets the jobs, and the server refuses its verify request (verify publishes
// results).
func auditorAsksOnlyReadOnlyQueries(t *testing.T, url, data string) {
	t.Helper()
	violations := make(chan error, 4)
	nc := connectAs(t, url, data, events.IdentityAuditor, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		violations <- err
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	jobs, err := fn.Ask(ctx, nc, events.Subjects{}, events.QueryJobs, events.NoRequest{})
	if err != nil || !slices.ContainsFunc(jobs, func(j events.JobInfo) bool { return j.Name == "nightly" }) {
		t.Errorf("the auditor asked jobs: %+v, %v", jobs, err)
	}
	discoverQueries(t, nc)
	vctx, vcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer vcancel()
	if _, err := fn.Ask(vctx, nc, events.Subjects{}, integrity.QueryVerify, integrity.Request{Remote: "nfs"}); err == nil {
		t.Fatal("the auditor called verify")
	}
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), ".api.verify") {
			t.Errorf("auditor verify refused with %v, want a permissions violation on the verify subject", err)
		}
	case <-ctx.Done():
		t.Error("the server reported no permissions violation for the auditor's verify")
	}
}
