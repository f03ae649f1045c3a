package fn_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
)

// serveQueries answers the common queries and extra on an embedded server
// until the test ends.
func serveQueries(t *testing.T, extra ...fn.APIEndpoint) *fn.Env {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte("jobs: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := &fn.Env{Config: cfg, Conn: testsupport.StartNATS(t), Log: slog.New(slog.DiscardHandler),
		Now: time.Now, API: extra, Version: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- fn.ServeAPI(ctx, env) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeAPI: %v", err)
		}
	})
	return env
}

// TestQueryErrorIsOneBoundedLine: a failed query answers the caller with
// the error as events carry it: one line, at most events.MaxReasonBytes.
func TestQueryErrorIsOneBoundedLine(t *testing.T) {
	long := "first line\nsecond line " + strings.Repeat("x", 3*events.MaxReasonBytes)
	env := serveQueries(t, fn.Answer(events.QueryPools, func(context.Context, *fn.Env, events.NoRequest) ([]string, error) {
		return nil, errors.New(long)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testsupport.Eventually(t, 10*time.Second, "the service to answer", func() bool {
		_, err := fn.Ask(ctx, env.Conn.NATS(), env.Subjects, events.QueryJobs, events.NoRequest{})
		return err == nil
	})
	_, err := fn.Ask(ctx, env.Conn.NATS(), env.Subjects, events.QueryPools, events.NoRequest{})
	if err == nil || strings.ContainsAny(err.Error(), "\r\n") || len(err.Error()) > events.MaxReasonBytes ||
		!strings.HasPrefix(err.Error(), "first line second line xxx") {
		t.Fatalf("error of %d bytes: %.80q", len(err.Error()), err)
	}
}

// TestQueryRequestIsStrict: a typed query reads its request as strictly as
// an event (unknown names refused), and an empty body is the zero request.
func TestQueryRequestIsStrict(t *testing.T) {
	var got events.DRListRequest
	env := serveQueries(t, fn.Answer(events.QueryDRList, func(_ context.Context, _ *fn.Env, req events.DRListRequest) ([]events.DRCopy, error) {
		got = req
		return []events.DRCopy{{CopyRecord: events.CopyRecord{UUID: "c0py"}, State: events.DRStateStandby}}, nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []events.DRCopy
	testsupport.Eventually(t, 10*time.Second, "the service to answer", func() bool {
		var err error
		out, err = fn.Ask(ctx, env.Conn.NATS(), env.Subjects, events.QueryDRList, events.DRListRequest{VM: "web-1"})
		return err == nil
	})
	if got.VM != "web-1" || len(out) != 1 || out[0].UUID != "c0py" {
		t.Errorf("asked %+v, answered %+v", got, out)
	}
	m, err := env.Conn.NATS().RequestWithContext(ctx, events.QueryDRList.Subject(env.Subjects), []byte(`{"vm":"a","colour":"red"}`))
	if err != nil || !strings.Contains(m.Header.Get("Nats-Service-Error"), `"colour"`) {
		t.Errorf("an unknown name: %v %v, want an error naming \"colour\"", m.Header, err)
	}
}
