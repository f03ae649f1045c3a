package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/xapi"
)

var exampleEnv = []string{
	"XBR_NATS_PASSWORD", "nats-pw", "XBR_LAB_PASSWORD", "lab-pw", "XBR_STANDBY_PASSWORD", "standby-pw",
	"XBR_S3_KEY", "AKIAEXAMPLE", "XBR_S3_SECRET", "s3-secret", "XBR_WEBHOOK_SECRET", "hook-secret",
	"XBR_SLACK_SECRET", "slack-secret", "XBR_MATTERMOST_TOKEN", "mm-token",
}

func TestExampleLoads(t *testing.T) {
	c, err := config.Load("../../deploy/xbr.example.yaml", env(exampleEnv...))
	if err != nil {
		t.Fatal(err)
	}
	nightly, ok := c.Job("nightly")
	if !ok || len(c.Jobs) != 4 || len(c.Pools) != 2 || len(c.Remotes) != 2 {
		t.Fatalf("jobs %d pools %d remotes %d", len(c.Jobs), len(c.Pools), len(c.Remotes))
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"rate limit", nightly.RateLimit, config.ByteSize(200 << 20)},
		{"fingerprint", c.Pools[0].TLSFingerprint, "3f2a9c410b7de85516a0c39e4f72d1086bb52ce990174da6f3580ec17a249bd6"},
		{"password", c.Pools[0].Password.Reveal(), "lab-pw"},
		{"s3 secret", c.Remotes[1].SecretKey.Reveal(), "s3-secret"},
		{"mattermost", c.Gateway.MattermostToken.Reveal(), "mm-token"},
		{"enabled by default", nightly.Schedules[0].Enabled, true},
		{"disabled", nightly.Schedules[1].Enabled, false},
		{"zone", nightly.Schedules[0].Location.String(), "Europe/Paris"},
		{"cron", nightly.Schedules[1].Spec.String(), "30 3 * * SUN"},
		{"long term", nightly.Schedules[0].LongTerm, config.LongTerm{Weekly: 4, Monthly: 12, Yearly: 2}},
		{"replicate compression", c.Jobs[2].Compression, config.CodecNone},
		{"snapshot job compression default", c.Jobs[1].Compression, config.CodecGzip},
		{"snapshot job zone", c.Jobs[1].Schedules[0].Location.String(), "America/New_York"},
		{"uuid", c.Jobs[1].VMs.UUIDs[1], "6f1e2d3c-4b5a-4968-8776-655443322110"},
		{"target", c.Jobs[2].Target, config.Target{Pool: "standby", SR: "Local storage"}},
		{"catch up", c.CatchUp, time.Hour},
		{"replicas", c.NATS.StreamReplicas, 3},
		{"events max bytes", c.NATS.EventsMaxBytes, config.ByteSize(20 << 30)},
		{"progress max bytes", c.NATS.ProgressMaxBytes, config.ByteSize(2 << 30)},
		{"dlq max bytes", c.NATS.DLQMaxBytes, config.ByteSize(1 << 30)},
		{"file", c.File, "../../deploy/xbr.example.yaml"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, s := c.Jobs[0], c.Jobs[0].Schedules[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"nats url", c.NATS.URL, ""}, {"nats listen", c.NATS.Listen, "127.0.0.1:4222"},
		{"prefix", c.NATS.Prefix, "xbr"}, {"replicas", c.NATS.StreamReplicas, 1},
		{"max age", c.NATS.EventsMaxAge, 90 * 24 * time.Hour}, {"duplicate window", c.NATS.DuplicateWindow, time.Hour},
		{"events max bytes", c.NATS.EventsMaxBytes, config.ByteSize(0)},
		{"gateway", c.Gateway.Listen, "127.0.0.1:8080"},
		{"data dir", c.DataDir, "var"}, {"catch up", c.CatchUp, time.Hour},
		{"mode", j.Mode, "full"}, {"compression", j.Compression, "gzip"}, {"xapi compression", j.XAPICompression, "none"},
		{"concurrency", j.Concurrency, 2}, {"retries", j.Retries, 0}, {"backoff", j.RetryBackoff, time.Minute},
		{"rate", j.RateLimit, config.ByteSize(0)}, {"timeout", j.VMTimeout, time.Duration(0)}, {"rpo", j.RPO, time.Duration(0)},
		{"overlap", j.OnOverlap, "skip"}, {"report", j.ReportWhen, "failure"},
		{"enabled", s.Enabled, true}, {"timer enabled", s.Timer().Enabled, true},
		{"no webhook secret", c.Gateway.WebhookSecret.IsSet(), false},
		{"stall timeout", c.Pools[0].StallTimeout, 10 * time.Minute},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	utc, _ := config.Parse("xbr.yaml", []byte(strings.Replace(base, "        timezone: Europe/Paris\n", "", 1)), env("XBR_PW", pw))
	if utc == nil || utc.Jobs[0].Schedules[0].Location != time.UTC {
		t.Error("timezone does not default to UTC")
	}
}

// TestPoolStallTimeout: a pool's stall_timeout is read as a duration, and
// 0 (as absent) means the default, the XAPI client's own.
func TestPoolStallTimeout(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
	}{{"30m", 30 * time.Minute}, {"45s", 45 * time.Second}, {"0", config.DefaultStallTimeout}, {"0s", config.DefaultStallTimeout}} {
		text := strings.Replace(base, "username: root", "username: root\n    stall_timeout: "+tt.value, 1)
		c, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
		if err != nil {
			t.Fatalf("stall_timeout: %s: %v", tt.value, err)
		}
		if got := c.Pools[0].StallTimeout; got != tt.want {
			t.Errorf("stall_timeout: %s: got %v, want %v", tt.value, got, tt.want)
		}
		var sum strings.Builder
		if err := c.WriteSummary(&sum, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if shown := strings.Contains(sum.String(), "stall timeout "+tt.want.String()); shown != (tt.want != config.DefaultStallTimeout) {
			t.Errorf("stall_timeout: %s: the summary shows it: %v, want it shown only when not the default:\n%s", tt.value, shown, sum.String())
		}
	}
	if config.DefaultStallTimeout != xapi.DefaultStallTimeout {
		t.Errorf("config default %v, xapi default %v: two sources of truth", config.DefaultStallTimeout, xapi.DefaultStallTimeout)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(base, "password: ${XBR_PW}", "password_file: ${DIR}/pw", 1)
	c, err := config.Parse("xbr.yaml", []byte(text), env("DIR", dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Pools[0].Password.Reveal(); got != "from-file" {
		t.Errorf("password %q, want the file's content without its newline", got)
	}
	both := strings.Replace(base, "password: ${XBR_PW}", "password: x\n    password_file: "+file, 1)
	_, err = config.Parse("xbr.yaml", []byte(both), env())
	if want := "xbr.yaml:6: pools[0].password_file: set password or password_file, not both"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	missing := strings.Replace(base, "password: ${XBR_PW}", "password_file: "+dir+"/nope", 1)
	_, err = config.Parse("xbr.yaml", []byte(missing), env())
	if want := `xbr.yaml:5: pools[0].password_file: "` + dir + `/nope": cannot read: no such file or directory`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	text := base + `  - name: weekly
    pools: [lab]
    remotes: [nfs]
    schedules:
      - &sched
        name: sunday
        cron: "0 4 * * 0"
        retention: 2
      - <<: *sched
        name: monday
        cron: "0 4 * * 1"
`
	c, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	mon := c.Jobs[1].Schedules[1]
	if mon.Name != "monday" || mon.Cron != "0 4 * * 1" || mon.Retention != 2 {
		t.Errorf("merged schedule = %+v", mon)
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want config.ByteSize
		err  string
	}{
		{"1048576", 1 << 20, ""}, {"50MiB", 50 << 20, ""}, {"50 mib/s", 50 << 20, ""}, {"1.5GB", 1500000000, ""},
		{"2KiB", 2048, ""}, {"10kb", 10000, ""}, {"0", 0, ""}, {"3TiB", 3 << 40, ""},
		{"-1MiB", 0, "must not be negative"}, {"MiB", 0, "not a size (want a number and a unit, e.g. 50MiB)"},
		{"5 parsecs", 0, `unknown unit "parsecs" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{"1.2.3MB", 0, "not a size (want a number and a unit, e.g. 50MiB)"}, {"99999999999TiB", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := config.ParseByteSize(tt.in)
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	if s := config.ByteSize(50 << 20).String(); s != "50MiB" {
		t.Errorf("String = %q", s)
	}
}

func TestDemo(t *testing.T) {
	c, err := config.Demo("var", "http://127.0.0.1:5555", "root", config.NewSecret("demo"))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job(config.DemoJob)
	if !ok || j.Name != "demo-nightly" || j.Mode != config.ModeFull || j.Compression != config.CodecGzip {
		t.Fatalf("demo job = %+v", j)
	}
	s, _ := j.Schedule("nightly")
	r, _ := c.Remote(j.Remotes[0])
	p, _ := c.Pool(j.Pools[0])
	if r.Type != config.RemoteDir || r.Path != filepath.Join("var", "remote") || p.Name != "demo" || p.URL != "http://127.0.0.1:5555" {
		t.Errorf("remote %+v pool %+v", r, p)
	}
	if s.Retention != 3 || !j.VMs.All() || s.Location.String() != "Europe/Paris" || s.Cron != "0 2 * * *" {
		t.Errorf("schedule %+v vms %+v", s, j.VMs)
	}
	next := s.Spec.Next(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), s.Location)
	if next.Format(time.RFC3339) != "2026-07-02T02:00:00+02:00" {
		t.Errorf("next demo fire %v", next)
	}
	if c.NATS.URL != "" || c.Gateway.Listen != "127.0.0.1:8080" {
		t.Errorf("demo must use the embedded NATS and the default gateway address")
	}
	checkDemoIncremental(t, c)
	if _, err := config.Demo("var", "not a url", "root", config.NewSecret("x")); err == nil ||
		err.Error() != `pools[0].url: "not a url": not an absolute URL with a host (e.g. https://host:port)` {
		t.Errorf("bad simulator URL: %v", err)
	}
}

// checkDemoIncremental: the demo's second job backs up every VM of the
// demo pool incrementally (CBT turned on) into the repository of the
// same remote, at 03:00 Europe/Paris, keeping 7 restore points.
func checkDemoIncremental(t *testing.T, c *config.Config) {
	t.Helper()
	if len(c.Jobs) != 2 {
		t.Fatalf("demo jobs = %d, want 2 (full and incremental)", len(c.Jobs))
	}
	j, ok := c.Job(config.DemoIncrementalJob)
	if !ok || j.Name != "demo-incremental" || j.Mode != config.ModeIncremental || j.CBT != config.CBTEnable || !j.VMs.All() ||
		!slices.Equal(j.Pools, []string{config.DemoPool}) || !slices.Equal(j.Remotes, []string{config.DemoRemote}) {
		t.Fatalf("demo incremental job = %+v", j)
	}
	if len(j.Schedules) != 1 {
		t.Fatalf("demo incremental schedules = %+v", j.Schedules)
	}
	s := j.Schedules[0]
	if s.Retention != 7 || s.Location.String() != "Europe/Paris" || s.Cron != "0 3 * * *" || !s.Enabled {
		t.Errorf("demo incremental schedule %+v", s)
	}
	next := s.Spec.Next(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), s.Location)
	if next.Format(time.RFC3339) != "2026-07-02T03:00:00+02:00" {
		t.Errorf("next demo incremental fire %v", next)
	}
}

// Aliases multiply the work of a small file; decoding stops at a budget.
func TestAliasBombStops(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-schedule: &s {name: d, cron: \"0 2 * * *\", retention: 1}\nx-list: &l [")
	b.WriteString(strings.Repeat("*s, ", 999) + "*s]\nx-job: &j {name: j, schedules: *l}\njobs: [")
	b.WriteString(strings.Repeat("*j, ", 999) + "*j]\n")
	_, err := config.Parse("xbr.yaml", []byte(b.String()), env())
	if err == nil || err.Error() != "xbr.yaml:1: the file is too complex (more than 200000 nodes once aliases are expanded)" {
		t.Fatalf("got %.300v", err)
	}
}

// Jobs and schedules get stable UUIDs, as Xen Orchestra's jobId and scheduleId: the
// configured id, or a UUIDv5 of the job's name (of the schedule's name under the job's id).
func TestJobAndScheduleIDs(t *testing.T) {
	const doc = `jobs:
  - name: nightly
    mode: snapshot
    pools: [lab]
    schedules: [{name: daily, cron: "0 2 * * *", snapshot_retention: 1}, {name: weekly, cron: "0 3 * * 0", snapshot_retention: 1}]
  - name: pinned
    id: 6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f
    mode: snapshot
    pools: [lab]
    schedules: [{name: daily, id: f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b, cron: "0 2 * * *", snapshot_retention: 1}]
pools: [{name: lab, url: "https://xcp.example", username: root, password: x}]
`
	c, err := config.Parse("xbr.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	again, err := config.Parse("xbr.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	n, p := c.Jobs[0], c.Jobs[1]
	// Known values: UUIDv5 (RFC 9562) of "nightly" under xbr's namespace, then of "daily"
	// under that id; a change here changes every backup's jobId.
	if n.ID != config.DeriveID(config.IDNamespace, "nightly") || n.ID != again.Jobs[0].ID {
		t.Errorf("derived job id %q", n.ID)
	}
	if n.ID[14] != '5' || !strings.ContainsAny(n.ID[19:20], "89ab") {
		t.Errorf("job id %q is not a version 5, RFC variant UUID", n.ID)
	}
	if d, w := n.Schedules[0].ID, n.Schedules[1].ID; d != config.DeriveID(n.ID, "daily") || d == w || d == n.ID {
		t.Errorf("schedule ids %q %q", d, w)
	}
	if p.ID != "6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f" || p.Schedules[0].ID != "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b" {
		t.Errorf("configured ids not kept: %q %q", p.ID, p.Schedules[0].ID)
	}
}
