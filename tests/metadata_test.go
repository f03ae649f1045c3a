package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// Pool metadata backups through xbr serve: three runs of a metadata job
// with retention 2 to a directory and an S3 gateway leave the two newest
// backups on each, in Xen Orchestra's layout,
// each with every file and metadata.json field XO's listing reads, the
// dump byte-identical to what the pool serves, xbr's state without a
// secret; `xbr backups ls` lists them and `xbr restore-metadata` uploads
// one, only when confirmed.
func TestPoolMetadataBackupThroughServe(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, PoolName: "lab"})
	rdir := t.TempDir()
	gw, s3r := s3Remote(t, "backups")
	cfgPath := filepath.Join(t.TempDir(), "xbr.yaml")
	yaml := fmt.Sprintf(`pools:
  - {name: lab, url: %s, username: %s, password: "${XBR_TEST_POOL_PASSWORD}"}
remotes:
  - {name: nfs, type: dir, path: %s}
  - {name: gateway, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}"}
jobs:
  - name: pooldb
    mode: metadata
    pools: [lab]
    remotes: [nfs, gateway]
    schedules:
      - {name: nightly, cron: "0 3 * * *", timezone: UTC, retention: 2}
`, p.url, p.user, rdir, gw.Endpoint)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass, "XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}
	s := startServe(t, env, "--config", cfgPath, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--functions", "metadata,restore")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nats := s.natsURL(t)
	for i := range 3 {
		nextSecond() // a run's folder is named by its fire time, to the second
		if out, errOut, code := xbr(t, ctx, nil, "run", "pooldb", "--wait", "--nats", nats); code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", i, code, out, errOut, s.output())
		}
	}
	cfg, err := config.Load(cfgPath, config.WithLookupEnv(func(string) (string, bool) { return "unused", true }))
	if err != nil {
		t.Fatal(err)
	}
	job, _ := cfg.Job("pooldb")
	c := login(t, ctx, p)
	_, pool, err := c.Pool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	poolDir := filepath.Join(rdir, catalog.PoolMetadataDir, job.Schedules[0].ID, pool.UUID)
	folders := backupFolders(t, poolDir)
	if len(folders) != 2 {
		t.Fatalf("%s holds %v, want the 2 newest backups (retention 2)\nserver:\n%s", poolDir, folders, s.output())
	}
	newest := filepath.Join(poolDir, folders[1])
	checkXOMetadata(t, filepath.Join(newest, "metadata.json"), folders[1], job, pool.UUID)
	data, err := os.ReadFile(filepath.Join(newest, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if served := dump(t, ctx, c); !bytes.Equal(data, served) {
		t.Fatalf("data (%d bytes) differs from the pool's dump (%d bytes)", len(data), len(served))
	}
	checkState(t, filepath.Join(newest, "xbr-state.json"), p.pass, gw.SecretKey)
	checkS3Copy(t, ctx, s3r, folders, data)
	checkListed(t, ctx, nats, folders)
	checkRestoreMetadata(t, ctx, p, env, cfgPath, "nfs:"+catalog.PoolMetadataDir+"/"+job.Schedules[0].ID+"/"+pool.UUID+"/"+folders[1])
}

// nextSecond returns once the wall clock has entered a new second.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now) + 10*time.Millisecond)
}

func login(t *testing.T, ctx context.Context, p *pool) *xapi.Client {
	t.Helper()
	c, err := xapi.New(p.url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, p.user, p.pass); err != nil {
		t.Fatal(err)
	}
	return c
}

func dump(t *testing.T, ctx context.Context, c *xapi.Client) []byte {
	t.Helper()
	tr, err := c.DumpPoolDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err == nil {
		err = tr.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backupFolders are the <ts> folders of dir, oldest first; each must hold
// exactly data, metadata.json and xbr-state.json.
func backupFolders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := catalog.ParseTimestamp(e.Name()); err != nil || !e.IsDir() {
			t.Fatalf("%s: unexpected entry %s", dir, e.Name())
		}
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		if !slices.Equal(names, []string{"data", "metadata.json", "xbr-state.json"}) {
			t.Fatalf("%s/%s holds %v", dir, e.Name(), names)
		}
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// checkXOMetadata checks the fields Xen Orchestra's listing and restore read.
func checkXOMetadata(t *testing.T, path, folder string, job config.Job, poolUUID string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		JobID, JobName, ScheduleID, ScheduleName, Version string
		Timestamp                                         int64
		Pool                                              struct{ UUID, NameLabel string } `json:"pool"`
		PoolMaster                                        struct{ UUID string }            `json:"poolMaster"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m.Pool.NameLabel = gjson(t, raw, "pool", "name_label")
	m.Pool.UUID, m.PoolMaster.UUID = gjson(t, raw, "pool", "uuid"), gjson(t, raw, "poolMaster", "uuid")
	ts, _ := catalog.ParseTimestamp(folder)
	if m.JobID != job.ID || m.JobName != "pooldb" || m.ScheduleID != job.Schedules[0].ID || m.ScheduleName != "nightly" ||
		m.Timestamp != ts.UnixMilli() || m.Pool.UUID != poolUUID || m.Pool.NameLabel != "lab" || m.PoolMaster.UUID == "" ||
		m.Version == "" {
		t.Fatalf("metadata.json = %s\nwant jobId %s, scheduleId %s, timestamp %d, pool %s", raw, job.ID,
			job.Schedules[0].ID, ts.UnixMilli(), poolUUID)
	}
}

// gjson reads a string field of an object field of a JSON document.
func gjson(t *testing.T, raw []byte, obj, field string) string {
	t.Helper()
	var doc map[string]json.RawMessage
	var m map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc[obj], &m); err != nil {
		t.Fatalf("%s: %v", obj, err)
	}
	s, _ := m[field].(string)
	return s
}

// checkS3Copy checks the S3 remote holds the same two backups, with the same data.
func checkS3Copy(t *testing.T, ctx context.Context, r remote.Remote, folders []string, data []byte) {
	t.Helper()
	got, problems, err := catalog.ListPoolMeta(ctx, r)
	if err != nil || len(problems) != 0 || len(got) != 2 || !strings.HasSuffix(got[0].ID, folders[1]) || !strings.HasSuffix(got[1].ID, folders[0]) {
		t.Fatalf("S3 remote lists %+v (%v, %v), want %v", got, problems, err, folders)
	}
	id, err := catalog.ParsePoolMetaID(got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := r.Open(ctx, id.Key(catalog.PoolMetaData))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("S3 data differs from the directory's (%d vs %d bytes, %v)", len(b), len(data), err)
	}
}

func checkState(t *testing.T, path string, secrets ...string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Config  string                                `json:"config_yaml"`
		KV      map[string]map[string]json.RawMessage `json:"kv"`
		Streams []struct{ Name string }               `json:"streams"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("xbr-state.json: %v\n%s", err, raw)
	}
	for _, secret := range secrets {
		if strings.Contains(string(raw), secret) {
			t.Fatal("xbr-state.json holds a secret")
		}
	}
	_, timer := st.KV["xbr_timer"]
	_, runs := st.KV["xbr_runs"]
	if !strings.Contains(st.Config, "name: pooldb") || !timer || !runs || len(st.Streams) == 0 ||
		st.Streams[0].Name != "XBR_EVENTS" {
		t.Fatalf("xbr-state.json lacks the configuration, the runs or the streams:\n%s", raw)
	}
}

func checkListed(t *testing.T, ctx context.Context, nats string, folders []string) {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, "backups", "ls", "--json", "--nats", nats)
	var listed []struct {
		ID, Mode string
		PoolName string `json:"pool_name"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil {
		t.Fatalf("backups ls: exit %d: %s %s", code, out, errOut)
	}
	ids := map[string][]string{}
	for _, b := range listed {
		if b.Mode == "metadata" {
			name, _, _ := strings.Cut(b.ID, ":")
			ids[name] = append(ids[name], b.ID[strings.LastIndex(b.ID, "/")+1:])
		}
	}
	want := []string{folders[1], folders[0]}
	if !slices.Equal(ids["nfs"], want) || !slices.Equal(ids["gateway"], want) {
		t.Fatalf("backups ls lists metadata backups %v, want %v newest first:\n%s", ids, folders, out)
	}
	out, _, _ = xbr(t, ctx, nil, "backups", "ls", "--nats", nats)
	if !strings.Contains(out, "pool lab") || !strings.Contains(out, "metadata") {
		t.Fatalf("backups ls table lacks the metadata rows:\n%s", out)
	}
}

func checkRestoreMetadata(t *testing.T, ctx context.Context, p *pool, env []string, cfgPath, id string) {
	t.Helper()
	args := []string{"restore-metadata", id, "--pool", "lab", "--config", cfgPath}
	if out, errOut, code := xbr(t, ctx, env, args...); code != 2 || !strings.Contains(errOut, "--yes-replace-the-pool-database") {
		t.Fatalf("unconfirmed restore without a terminal: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(p.sim.DBRestores()); n != 0 {
		t.Fatalf("%d uploads after a refused restore", n)
	}
	for _, extra := range []string{"--dry-run", "--yes-replace-the-pool-database"} {
		if out, errOut, code := xbr(t, ctx, env, append(args, extra)...); code != 0 {
			t.Fatalf("restore-metadata %s: exit %d\n%s\n%s", extra, code, out, errOut)
		}
	}
	got := p.sim.DBRestores()
	if len(got) != 2 || !got[0].DryRun || got[1].DryRun || got[1].Rows == 0 {
		t.Fatalf("uploads = %+v, want a dry run then a restore", got)
	}
}
