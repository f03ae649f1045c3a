package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/xapi/xapisim"
)

// TestEmbeddedBusRefusesStrangers is issue 12 findings 1 and 2 through a real
// `xbr serve`: its embedded NATS takes no connection without the configured
// login or an identity of the data dir, and an identity may not order work
// it is not allowed to (the export function asking for a restore, or calling
// the API).
func TestEmbeddedBusRefusesStrangers(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    mode: full
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}
`)+
		"nats: {user: xbr, password: \"${XBR_TEST_NATS_PASSWORD}\"}\n")
	data := t.TempDir()
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + p.pass, "XBR_TEST_NATS_PASSWORD=configured-pw"},
		"--config", cfg, "--data-dir", data, "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	raw := s.rawNATSURL(t)

	for name, opts := range map[string][]nats.Option{
		"anonymous":      nil,
		"wrong password": {nats.UserInfo("xbr", "not-the-password")},
		"unknown user":   {nats.UserInfo("intruder", "configured-pw")},
	} {
		if nc, err := nats.Connect(raw, append(opts, nats.MaxReconnects(0))...); err == nil {
			nc.Close()
			t.Errorf("%s: the embedded NATS took the connection", name)
		}
	}
	nc, err := nats.Connect(raw, nats.UserInfo("xbr", "configured-pw"))
	if err != nil {
		t.Fatalf("the configured login was refused: %v", err)
	}
	nc.Close()

	export := connectAs(t, raw, data, "export")
	forbiddenRestore(t, export)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := export.RequestWithContext(ctx, "xbr.api.jobs", []byte("null")); err == nil {
		t.Errorf("the export identity called xbr.api.jobs")
	}
	client := connectAs(t, raw, data, "client")
	if _, err := client.Request("xbr.api.jobs", []byte("null"), 10*time.Second); err != nil {
		t.Errorf("the client identity could not call xbr.api.jobs: %v", err)
	}
	assertNoRestoreStored(t, client)
	if err := s.stop(t, 30*time.Second); err != nil {
		t.Errorf("serve: %v", err)
	}
	for _, name := range []string{"export", "client", "admin", "gateway"} {
		raw, _ := os.ReadFile(filepath.Join(data, "nats", "identities", name+".json"))
		var id struct{ Password string }
		_ = json.Unmarshal(raw, &id)
		if id.Password == "" || strings.Contains(s.output(), id.Password) {
			t.Errorf("identity %s: no password, or its password is in the log", name)
		}
	}
	if strings.Contains(s.output(), "configured-pw") {
		t.Error("the configured NATS password is in the log")
	}
}

// rawNATSURL is the backbone URL as served, without credentials.
func (s *server) rawNATSURL(t *testing.T) string {
	l, _ := s.waitLog(t, "xbr serving", time.Second)
	u, _ := l["nats"].(string)
	if u == "" {
		t.Fatalf("no nats URL in the serving line:\n%s", s.output())
	}
	return u
}

// connectAs connects with the identity name that `xbr serve` keeps in data.
func connectAs(t *testing.T, url, data, name string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "nats", "identities", name+".json"))
	if err != nil {
		t.Fatalf("identity %s: %v", name, err)
	}
	var id struct{ User, Password string }
	if err := json.Unmarshal(raw, &id); err != nil {
		t.Fatalf("identity %s: %v", name, err)
	}
	nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(id.User, id.Password)}, opts...)...)
	if err != nil {
		t.Fatalf("connect as %s: %v", name, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// forbiddenRestore publishes a well-formed restore request and wants it refused.
func forbiddenRestore(t *testing.T, nc *nats.Conn) {
	t.Helper()
	forbiddenPublish(t, nc, "forged-restore", events.Source("gateway"), events.RestoreRequested{RequestID: "forged-restore",
		BackupID: "nfs/vm/20240501T020013Z", Pool: "lab", RequestedBy: "webhook", Start: true})
}

// forbiddenPublish publishes a well-formed event of payload p through nc and
// wants the server to refuse it.
func forbiddenPublish(t *testing.T, nc *nats.Conn, id, source string, p events.Payload) {
	t.Helper()
	msg, err := events.Subjects{}.Message(events.Meta{ID: id, Source: source, Time: time.Now().UTC()}, p)
	if err != nil {
		t.Fatal(err)
	}
	h, data, err := events.Encode(msg.Event)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: msg.Subject, Header: nats.Header(h), Data: data}); err == nil {
		t.Errorf("%s published %s", nc.Opts.User, msg.Subject)
	}
}

// assertNoRestoreStored checks through nc that no restore request was stored.
func assertNoRestoreStored(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(events.Subjects{}.Filter(events.TypeRestoreRequested)))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if n := len(info.State.Subjects); n != 0 {
		t.Errorf("%d restore request subjects stored: %v", n, info.State.Subjects)
	}
}
