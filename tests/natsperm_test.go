package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/cli"
	"xbr/shared/xapi/xapisim"
)

// TestPermissionsOnARealNATSServer configures a nats-server from the output
// of `xbr nats permissions --format nats-server`, runs every function of
// `xbr serve` under its own user, backs up a VM through it, and shows the
// server refusing what the grants forbid.
func TestPermissionsOnARealNATSServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	var names []string
	for _, r := range events.Roles() {
		names = append(names, r.Name)
	}
	ids, err := bus.EnsureIdentities(bus.IdentitiesDir(data), names)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := xbr(t, ctx, nil, "nats", "permissions", "--format", "nats-server")
	if code != 0 {
		t.Fatalf("nats permissions: exit %d: %s", code, errOut)
	}
	for _, n := range names {
		out = strings.ReplaceAll(out, cli.PasswordPlaceholder(n), ids[n].Password)
	}
	url := startNATSServerConf(t, out)

	p := startPool(t, xapisim.Options{VMs: 2, DiskSize: 2 << 20})
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath), `  - name: nightly
    mode: full
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}
`))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}, "--config", cfg, "--data-dir", data,
		"--nats", url, "--http", "127.0.0.1:0")
	if out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t)); code != 0 {
		t.Fatalf("run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}

	forbiddenRestore(t, connectAs(t, url, data, "export"))
	forbiddenScheduleDue(t, connectAs(t, url, data, "restore"))
	auditor := connectAs(t, url, data, events.IdentityAuditor)
	forbiddenStreamAdmin(t, auditor)
	forbiddenDurable(t, auditor, "restore")
	if n := countRunsCompleted(t, auditor); n != 1 {
		t.Errorf("the auditor read %d run.completed events from %s, want 1", n, events.DefaultEventsStream)
	}
	assertNoRestoreStored(t, auditor)
	discoverQueries(t, connectAs(t, url, data, events.IdentityClient))
	auditorAsksOnlyReadOnlyQueries(t, url, data)
}

// startNATSServerConf runs a nats-server configured with authorization (a
// block printed by xbr) on a free loopback port with JetStream.
func startNATSServerConf(t *testing.T, authorization string) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("host: 127.0.0.1\nport: -1\njetstream { store_dir: %q }\n%s", dir, authorization)
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := natsserver.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server does not take the printed permissions: %v", err)
	}
	opts.NoSigs = true
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns.ClientURL()
}

func forbiddenScheduleDue(t *testing.T, nc *nats.Conn) {
	t.Helper()
	forbiddenPublish(t, nc, "forged-due", events.Source("timer"),
		events.ScheduleDue{RunID: "forged-run", Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: time.Now().UTC(), Manual: true})
}

// forbiddenStreamAdmin wants purging, deleting and publishing refused.
func forbiddenStreamAdmin(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, events.DefaultEventsStream)
	if err != nil {
		t.Fatalf("the auditor cannot see %s: %v", events.DefaultEventsStream, err)
	}
	before := st.CachedInfo().State.Msgs
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 2*time.Second) }
	c1, x1 := short()
	defer x1()
	if err := st.Purge(c1); err == nil {
		t.Errorf("the auditor purged %s", events.DefaultEventsStream)
	}
	c2, x2 := short()
	defer x2()
	if err := js.DeleteStream(c2, events.DefaultEventsStream); err == nil {
		t.Errorf("the auditor deleted %s", events.DefaultEventsStream)
	}
	c3, x3 := short()
	defer x3()
	if _, err := js.Publish(c3, "xbr.run.completed.nightly", []byte("{}")); err == nil {
		t.Errorf("the auditor published")
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs != before || before == 0 {
		t.Errorf("%s changed under the auditor: %d messages, %d before (%v)", events.DefaultEventsStream, info.State.Msgs, before, err)
	}
}

// countRunsCompleted reads XBR_EVENTS with an ordered consumer of nc's own.
func countRunsCompleted(t *testing.T, nc *nats.Conn) int {
	t.Helper()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, events.DefaultEventsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.Subjects{}.Filter(events.TypeRunCompleted)}})
	if err != nil {
		t.Fatalf("the auditor cannot read %s: %v", events.DefaultEventsStream, err)
	}
	n := 0
	for {
		batch, err := cons.FetchNoWait(10)
		if err != nil {
			t.Fatalf("the auditor cannot read %s: %v", events.DefaultEventsStream, err)
		}
		got := 0
		for range batch.Messages() {
			got++
		}
		if got == 0 {
			return n
		}
		n += got
	}
}

// forbiddenDurable wants nc unable to take over or pull from durable.
func forbiddenDurable(t *testing.T, nc *nats.Conn, durable string) {
	t.Helper()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, events.DefaultEventsStream, jetstream.ConsumerConfig{Durable: durable,
		AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Errorf("%s updated the %s durable", nc.Opts.User, durable)
	}
	m, err := nc.RequestWithContext(ctx, "$JS.API.CONSUMER.MSG.NEXT."+events.DefaultEventsStream+"."+durable, []byte(`{"batch":1,"no_wait":true}`))
	if err == nil {
		t.Errorf("%s pulled from the %s durable: %s %v", nc.Opts.User, durable, m.Data, m.Header)
	}
}
