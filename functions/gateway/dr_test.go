package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/functions/replicate"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/failovers"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

// drHarness is a gateway whose dr.ls queries are answered by the replicate
// function's API, and whose failover requests by its failover handler, on
// the same embedded NATS, with a main pool and a standby
// pool holding one standby copy of a VM of the main pool.
type drHarness struct {
	*harness
	standby   *xapi.Client
	source    xapi.VM
	sourceRef xapi.VMRef
	copy      replicate.Copy
	// stopFailovers stops the replicate function's failover handler: a
	// failover asked after it never gets its outcome.
	stopFailovers func()
	logs          *testsupport.SyncBuffer // every function's log, as JSON
}

// newDRHarness builds the harness; opts are the gateway's.
func newDRHarness(t *testing.T, opts ...gateway.Option) *drHarness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ns, err := natsserver.StartServer(natsserver.ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	conn, err := bus.Connect(ns.ClientURL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	mainSim, mainURL := startSim(t)
	_, standbyURL := startSim(t)
	cfg := drConfig(t, mainURL, standbyURL)
	logs := new(testsupport.SyncBuffer)
	env := &fn.Env{Config: cfg, Conn: conn, Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: time.Now,
		Pools: fn.NewPools(cfg.Pools, slog.New(slog.DiscardHandler)), API: replicate.API()}
	if err := conn.EnsureStreams(ctx, env.Topology()); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- fn.ServeAPI(ctx, env) }()
	t.Cleanup(func() { cancel(); <-served })
	deps := replicate.Deps{Config: cfg, Pools: env.Pools, Subjects: env.Subjects, Log: env.Log}
	fctx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- conn.Consume(fctx, replicate.FailoverConsumer(env.Subjects, env.Streams.WithDefaults().Events), replicate.NewFailoverHandler(deps))
	}()
	h := &drHarness{harness: &harness{env: env, sim: mainSim, now: time.Now()},
		stopFailovers: sync.OnceFunc(func() { stop(); <-consumed }), logs: logs}
	t.Cleanup(h.stopFailovers)
	h.replicateOne(t, ctx)
	s, err := gateway.New(env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h.server = s
	t.Cleanup(s.Close) // before NATS stops: it waits for the chat outcomes it follows
	h.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func drConfig(t *testing.T, mainURL, standbyURL string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`pools:
  - {name: main, url: %q, username: root, password: xapisim}
  - {name: standby, url: %q, username: root, password: xapisim}
jobs:
  - name: dr
    mode: replicate
    pools: [main]
    target: {pool: standby, sr: Local storage}
    schedules: [{name: hourly, cron: "0 * * * *", copy_retention: 1}]
gateway: {webhook_secret: %q, slack_signing_secret: %q, mattermost_token: %q}
`, mainURL, standbyURL, webhookSecret, slackSecret, mmToken)
	cfg, err := config.Parse("dr.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// replicateOne makes the standby copy of a halted VM of the main pool.
func (h *drHarness) replicateOne(t *testing.T, ctx context.Context) {
	t.Helper()
	src, err := h.env.Pools.Client(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if h.standby, err = h.env.Pools.Client(ctx, "standby"); err != nil {
		t.Fatal(err)
	}
	vm := haltedVM(t, h.sim)
	spec := replicate.Spec{Job: "dr", Schedule: "hourly", VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}
	res, err := replicate.Replicate(ctx, src, h.standby, spec, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.sourceRef = xapi.VMRef(vm.Ref)
	if h.source, err = src.VMRecord(ctx, h.sourceRef); err != nil {
		t.Fatal(err)
	}
	h.copy = res.Copy
}

// copyState is the copy's power state and whether start is still blocked.
func (h *drHarness) copyState(t *testing.T) (xapi.PowerState, bool) {
	t.Helper()
	rec, err := h.standby.VMRecord(context.Background(), h.copy.Ref)
	if err != nil {
		t.Fatal(err)
	}
	_, blocked := rec.BlockedOperations["start"]
	return rec.PowerState, blocked
}

func TestFailoverWebhookRefusesUnsignedRequests(t *testing.T) {
	h := newDRHarness(t)
	body := fmt.Sprintf(`{"vm": %q, "copy": "latest", "start": true}`, h.source.NameLabel)
	now := time.Now()
	for name, header := range map[string]http.Header{
		"no signature":              {"Content-Type": {"application/json"}},
		"wrong secret":              signedFor("not-the-secret", now, "POST", "/v1/failovers", body),
		"signature of another body": signedFor(webhookSecret, now, "POST", "/v1/failovers", strings.Replace(body, "true", "false", 1)),
		"timestamp 6 minutes old":   signedFor(webhookSecret, now.Add(-6*time.Minute), "POST", "/v1/failovers", body),
	} {
		t.Run(name, func(t *testing.T) {
			code, out := h.do(t, "POST", "/v1/failovers", header, body)
			if code != http.StatusUnauthorized || strings.Contains(out, webhookSecret) {
				t.Fatalf("status %d (%s), want 401 without the secret", code, out)
			}
			if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
				t.Fatalf("a refused failover touched the copy: power %s, start blocked %v", power, blocked)
			}
		})
	}
}

func TestFailoverWebhookStartsTheCopy(t *testing.T) {
	h := newDRHarness(t)
	body := fmt.Sprintf(`{"vm": %q, "copy": "latest", "start": true}`, h.source.NameLabel)
	code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	res := decode[failovers.Status](t, out)
	if c := res.Completed; c == nil || c.CopyUUID != h.copy.UUID || !c.Started || c.PowerState != string(xapi.Running) ||
		c.Pool != "standby" || c.RequestedBy != "webhook" || c.Source != events.SourceHalted || c.SourcePool != "main" {
		t.Fatalf("failover answer %+v %+v, want copy %s started on standby", res, res.Completed, h.copy.UUID)
	}
	if power, blocked := h.copyState(t); power != xapi.Running || blocked {
		t.Fatalf("after the failover: power %s, start blocked %v", power, blocked)
	}
	// The status is at GET /v1/failovers/<id>, signed like a POST with no body.
	code, out = h.do(t, "GET", "/v1/failovers/"+res.RequestID, signedFor(webhookSecret, time.Now(), "GET", "/v1/failovers/"+res.RequestID, ""), "")
	if got := decode[failovers.Status](t, out); code != http.StatusOK || got.State != failovers.StateCompleted || got.Request == nil {
		t.Fatalf("GET the failover: status %d: %s", code, out)
	}
	if code, _ := h.do(t, "GET", "/v1/failovers/"+strings.Repeat("a", 32), signedFor(webhookSecret, time.Now(), "GET", "/v1/failovers/"+strings.Repeat("a", 32), ""), ""); code != http.StatusNotFound {
		t.Fatalf("GET an unknown failover: status %d, want 404", code)
	}
	// A new request for the same copy is harmless: the running copy stays as it is.
	code, out = h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now().Add(time.Second), "POST", "/v1/failovers", body), body)
	if res := decode[failovers.Status](t, out); code != http.StatusOK || res.Completed == nil || res.Completed.Started ||
		res.Completed.PowerState != string(xapi.Running) {
		t.Fatalf("repeated failover: status %d: %s", code, out)
	}
}

// Finding 10 at the webhook: a running source VM refuses the failover
// (409, nothing touched) unless the body says force.
func TestFailoverWebhookRefusedWhileTheSourceRuns(t *testing.T) {
	h := newDRHarness(t)
	if err := h.sim.SetPowerState(string(h.sourceRef), "Running"); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"vm": %q, "start": true}`, h.source.NameLabel)
	code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	want := "source VM " + h.source.NameLabel + " is still running on pool main; stop it or use --force"
	if e := decode[apiErr](t, out); code != http.StatusConflict || e.Error != want {
		t.Fatalf("failover while the source runs: status %d %+v, want 409 %q", code, e, want)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("a refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
	body = fmt.Sprintf(`{"vm": %q, "start": true, "force": true}`, h.source.NameLabel)
	code, out = h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	if res := decode[failovers.Status](t, out); code != http.StatusOK || res.Completed == nil || !res.Completed.Forced ||
		res.Completed.Source != events.SourceRunning {
		t.Fatalf("forced failover: status %d: %s", code, out)
	}
	if power, blocked := h.copyState(t); power != xapi.Running || blocked {
		t.Fatalf("after the forced failover: power %s, start blocked %v", power, blocked)
	}
}

// A failover whose outcome is slower than the failover wait is answered
// as pending with its id at the webhook (202, so the caller can poll) and
// on the DR page, before the handler timeout cuts the request. No replicate
// function takes it here: the outcome never comes. (The chat command never
// waits: see TestChatFailoverAnswersAtOnce.)
func TestFailoverSlowerThanTheWaitIsPendingWithItsID(t *testing.T) {
	h := newDRHarness(t, gateway.WithHandlerTimeout(2*time.Second)) // the failover waits two thirds of it
	h.stopFailovers()
	pending := func(t *testing.T, door, id string) {
		t.Helper()
		path := "/v1/failovers/" + id
		code, out := h.do(t, "GET", path, signedFor(webhookSecret, time.Now(), "GET", path, ""), "")
		if st := decode[failovers.Status](t, out); code != http.StatusOK || st.State != failovers.StatePending || st.Request == nil {
			t.Fatalf("%s: GET the failover %q: status %d: %s, want it pending", door, id, code, out)
		}
	}
	body := fmt.Sprintf(`{"vm": %q, "start": true}`, h.source.NameLabel)
	code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	st := decode[failovers.Status](t, out)
	if code != http.StatusAccepted || st.State != failovers.StatePending || st.RequestID == "" {
		t.Fatalf("webhook: status %d: %s, want 202 pending with the failover's id", code, out)
	}
	pending(t, "webhook", st.RequestID)
	_, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	code, page := h.do(t, "POST", "/dr/failover", formHeader, form.Encode())
	m := regexp.MustCompile(`<code id="failover-id">([\w-]+)</code>\); its outcome is not known yet`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("DR page: status %d, want the pending outcome with the failover's id:\n%s", code, page)
	}
	pending(t, "DR page", m[1])
}

// A failover wait that is not shorter than the handler timeout would cut a
// slow failover before its pending answer: New refuses it.
func TestNewRefusesAFailoverWaitNotBelowTheHandlerTimeout(t *testing.T) {
	for _, wait := range []time.Duration{time.Second, time.Minute} {
		_, err := gateway.New(&fn.Env{}, gateway.WithHandlerTimeout(time.Second), gateway.WithFailoverWait(wait))
		if err == nil || !strings.Contains(err.Error(), "not shorter than the handler timeout") {
			t.Errorf("failover wait %s, handler timeout 1s: %v, want refused", wait, err)
		}
	}
}

func TestFailoverWebhookBadRequests(t *testing.T) {
	h := newDRHarness(t)
	stamp := h.copy.Datetime.UTC().Format("20060102T150405Z")
	tests := []struct {
		name, body string
		code       int
		field      string
	}{
		{"no vm", `{"copy": "latest"}`, http.StatusBadRequest, "vm"},
		{"unknown field", `{"vm": "x", "backup_id": "y"}`, http.StatusBadRequest, "backup_id"},
		{"garbage copy", fmt.Sprintf(`{"vm": %q, "copy": "yesterday"}`, h.source.NameLabel), http.StatusBadRequest, "copy"},
		{"start not a bool", fmt.Sprintf(`{"vm": %q, "start": "yes"}`, h.source.NameLabel), http.StatusBadRequest, "start"},
		{"unknown vm", `{"vm": "no-such-vm"}`, http.StatusNotFound, "vm"},
		{"no copy at that time", fmt.Sprintf(`{"vm": %q, "copy": "20200101T000000Z"}`, h.source.NameLabel), http.StatusNotFound, "vm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", tc.body), tc.body)
			if e := decode[apiErr](t, out); code != tc.code || e.Field != tc.field {
				t.Fatalf("status %d %+v, want %d naming %q", code, e, tc.code, tc.field)
			}
		})
	}
	// The copy chosen by its recovery point, without starting it.
	body := fmt.Sprintf(`{"vm": %q, "copy": %q}`, h.source.UUID, stamp)
	code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	if code != http.StatusOK {
		t.Fatalf("failover to the copy of %s: status %d: %s", stamp, code, out)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || blocked {
		t.Fatalf("failover without start: power %s, start blocked %v", power, blocked)
	}
}

// A failover body is outside input: garbage is a *FieldError naming a field,
// and what is accepted has a VM and a copy that reads back the same.
func FuzzParseFailoverRequest(f *testing.F) {
	for _, s := range []string{`{"vm": "web", "copy": "latest", "start": true}`, `{"vm": "web", "copy": "20240501T02:00:13Z"}`,
		`{"vm": "web", "copy": "2024-05-01T02:00:13.5Z"}`, `{"vm": ""}`, `[]`, `{"vm": "a\u0000b"}`, `{"vm": "x"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := gateway.ParseFailoverRequest(body)
		if err != nil {
			var fe *gateway.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v is not a FieldError naming a field", err)
			}
			return
		}
		if strings.TrimSpace(req.VM) == "" {
			t.Fatalf("accepted without a vm: %q", body)
		}
		if at, err := gateway.ParseCopySelector(req.Copy); err != nil || !at.Equal(req.At) {
			t.Fatalf("copy %q read as %v, then %v, %v", req.Copy, req.At, at, err)
		}
	})
}
