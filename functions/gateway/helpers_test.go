package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

const (
	webhookSecret = "whsec-test-0123456789"
	slackSecret   = "slack-signing-secret-test"
	mmToken       = "mattermost-token-test"
)

// harness is a gateway on a real embedded NATS, a simulated pool and a
// directory remote holding one real backup.
type harness struct {
	env    *fn.Env
	server *gateway.Server
	srv    *httptest.Server
	sim    *xapisim.Server
	backup catalog.ID
	vm     xapisim.VMInfo
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
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
	sim, simURL := startSim(t)
	remoteDir := t.TempDir()
	cfg := testConfig(t, simURL, remoteDir)
	env := &fn.Env{Config: cfg, Conn: conn, Log: slog.New(slog.DiscardHandler), Now: time.Now,
		Pools: fn.NewPools(cfg.Pools, slog.New(slog.DiscardHandler)), Remotes: fn.NewRemotes(cfg.Remotes, testsupport.OpenDir)}
	env.Repos = fn.NewRepos(cfg.Remotes, env.Remotes)
	if err := conn.EnsureStreams(ctx, env.Topology()); err != nil {
		t.Fatal(err)
	}
	h := &harness{env: env, sim: sim, now: time.Now()}
	h.vm = haltedVM(t, sim)
	h.backup = makeBackup(t, env, sim, h.vm, "nfs", time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC))
	s, err := gateway.New(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	h.server = s
	h.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func startSim(t *testing.T) (*xapisim.Server, string) {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), PoolName: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, url
}

func testConfig(t *testing.T, simURL, remoteDir string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`pools: [{name: lab, url: %q, username: root, password: xapisim}]
remotes: [{name: nfs, type: dir, path: %q}]
jobs:
  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
gateway: {webhook_secret: %q, slack_signing_secret: %q, mattermost_token: %q}
`, simURL, remoteDir, webhookSecret, slackSecret, mmToken)
	cfg, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func haltedVM(t *testing.T, sim *xapisim.Server) xapisim.VMInfo {
	t.Helper()
	for _, vm := range sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate && vm.PowerState == "Halted" {
			return vm
		}
	}
	t.Fatal("the simulator has no halted VM")
	return xapisim.VMInfo{}
}

// makeBackup exports vm from the pool, gzips it and commits it in XO's
// layout on the directory remote (data first, the .json last).
func makeBackup(t *testing.T, env *fn.Env, sim *xapisim.Server, vm xapisim.VMInfo, remoteName string, at time.Time) catalog.ID {
	t.Helper()
	ctx := context.Background()
	c, err := env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	rm, err := env.Remotes.Get(ctx, remoteName)
	if err != nil {
		t.Fatal(err)
	}
	id, err := catalog.NewID(remoteName, vm.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	size, sum := writeXVA(t, ctx, c, xapi.VMRef(vm.Ref), rm.(*dir.Dir), id.DataKey())
	meta := catalog.Metadata{JobID: "job-1", Mode: catalog.ModeFull, ScheduleID: "sched-1",
		Timestamp: at.UnixMilli(), Version: catalog.MetadataVersion,
		VM:         json.RawMessage(fmt.Sprintf(`{"uuid":%q,"name_label":%q}`, vm.UUID, vm.NameLabel)),
		VMSnapshot: json.RawMessage(`{"uuid":"00000000-0000-4000-8000-000000000001"}`),
		XVA:        "./" + id.Timestamp() + catalog.DataSuffix, Size: size,
		Xbr: &catalog.Xbr{Version: "test", SHA256: sum, Codec: catalog.CodecGzip, RunID: "run-1",
			Pool: "lab", Job: "nightly", Schedule: "daily"}}
	data, err := meta.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	put(t, ctx, rm.(*dir.Dir), id.MetaKey(), strings.NewReader(string(data)))
	return id
}

func writeXVA(t *testing.T, ctx context.Context, c *xapi.Client, vm xapi.VMRef, d *dir.Dir, key string) (int64, string) {
	t.Helper()
	tr, err := c.Export(ctx, vm, xapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	up, err := d.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(up, h)}
	zw, err := compress.NewWriter(cw, compress.Gzip, compress.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(zw, tr); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := up.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return cw.n, hex.EncodeToString(h.Sum(nil))
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func put(t *testing.T, ctx context.Context, d *dir.Dir, key string, r io.Reader) {
	t.Helper()
	up, err := d.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(up, r); err != nil {
		t.Fatal(err)
	}
	if err := up.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// do sends a request and returns the status and body.
func (h *harness) do(t *testing.T, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signed are the webhook headers of body POSTed to /v1/restores at ts with secret.
func signed(secret string, ts time.Time, body string) http.Header {
	return signedFor(secret, ts, "POST", "/v1/restores", body)
}

// count is how many events of type typ are stored.
func (h *harness) count(t *testing.T, typ events.Type) uint64 {
	t.Helper()
	ctx := context.Background()
	names := h.env.Streams.WithDefaults()
	s, err := h.env.Conn.JetStream().Stream(ctx, names.For(typ))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(h.env.Subjects.Filter(typ)))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64 // State.Msgs counts the whole stream; Subjects is filtered
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// publish stores an event as a function would.
func (h *harness) publish(t *testing.T, id string, p events.Payload, at time.Time) {
	t.Helper()
	msg, err := h.env.Subjects.Message(events.Meta{ID: id, Source: events.Source("restore"), Time: at}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.env.Conn.Publish(context.Background(), msg.Subject, msg.Event); err != nil {
		t.Fatal(err)
	}
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// signedFor are the webhook headers of a request (method, path with query,
// body) at ts with secret.
func signedFor(secret string, ts time.Time, method, target, body string) http.Header {
	return http.Header{
		gateway.HeaderTimestamp: {fmt.Sprint(ts.Unix())},
		gateway.HeaderSignature: {gateway.SignWebhook(secret, ts, method, target, []byte(body))},
		"Content-Type":          {"application/json"},
	}
}
