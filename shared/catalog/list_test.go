package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

func newDir(t testing.TB, name string) *dir.Dir {
	t.Helper()
	d, err := dir.New(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// backup describes one backup to write.
type backup struct {
	vm, name, job, schedule string
	at                      time.Time
	xbr                     bool // write the xbr object (else the .json looks like XO's)
}

func metadataFor(b backup) catalog.Metadata {
	ts := catalog.FormatTimestamp(b.at)
	m := catalog.Metadata{
		JobID: b.job, Mode: catalog.ModeFull, ScheduleID: b.schedule, Timestamp: b.at.UnixMilli(),
		Version: catalog.MetadataVersion,
		VM:      []byte(fmt.Sprintf(`{"uuid":%q,"name_label":%q,"power_state":"Running"}`, b.vm, b.name)),
		VMSnapshot: []byte(fmt.Sprintf(`{"uuid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","name_label":"[XO Backup] %s","is_a_snapshot":true}`,
			b.name)),
		XVA: "./" + ts + ".xva", Size: 1234,
	}
	if b.xbr {
		m.Xbr = &catalog.Xbr{Version: "0.1.0", SHA256: strings.Repeat("0f", 32), Codec: catalog.CodecGzip,
			RunID: "run-" + ts, Pool: "lab", Job: "nightly", Schedule: "daily"}
	}
	return m
}

// put writes the data file and then the .json, as an export does, and returns the id.
func put(t testing.TB, r remote.Remote, b backup) catalog.ID {
	t.Helper()
	id, err := catalog.NewID(r.Name(), b.vm, b.at)
	if err != nil {
		t.Fatal(err)
	}
	m := metadataFor(b)
	js, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	remotetest.PutBytes(t, r, id.DataKey(), make([]byte, m.Size))
	remotetest.PutBytes(t, r, id.MetaKey(), js)
	return id
}

func idStrings(bs []catalog.Backup) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID.String())
	}
	return out
}

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

func TestListNewestFirstAndCommitMarker(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	var want []string
	for _, b := range []backup{
		{vm: vmA, name: "web", job: "j1", schedule: "s1", at: t0, xbr: true},
		{vm: vmB, name: "db", job: "j1", schedule: "s1", at: t0.Add(time.Hour)},
		{vm: vmA, name: "web", job: "j2", schedule: "s2", at: t0.Add(2 * time.Hour), xbr: true},
	} {
		id := put(t, r, b)
		want = append([]string{id.String()}, want...)
	}
	// An export that died before its .json: data only, never listed.
	remotetest.PutBytes(t, r, "xo-vm-backups/"+vmA+"/20260302T020000Z.xva", []byte("partial"))
	// XO's cache and other files in the tree are not backups.
	remotetest.PutBytes(t, r, "xo-vm-backups/"+vmA+"/cache.json.gz", []byte("x"))
	remotetest.PutBytes(t, r, "xo-vm-backups/"+vmA+"/vdis/j/v/20260301T020000Z.json", []byte("{}"))

	got, problems, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(got), want) {
		t.Errorf("ids = %v, want %v", idStrings(got), want)
	}
	if len(problems) != 0 {
		t.Errorf("problems = %v", problems)
	}
	newest := got[0]
	if newest.VMName != "web" || newest.Remote != "nfs" || newest.Codec != "gzip" || newest.Job != "nightly" ||
		newest.JobID != "j2" || newest.ScheduleID != "s2" || newest.Size != 1234 || newest.WrittenBy != "xbr 0.1.0" ||
		!newest.Timestamp.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("newest = %+v", newest)
	}
	if xo := got[1]; xo.WrittenBy != "xo" || xo.Codec != "" || xo.VMName != "db" {
		t.Errorf("XO-style backup = %+v", xo)
	}
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	a1 := put(t, r, backup{vm: vmA, name: "web", job: "j1", schedule: "s1", at: t0})
	a2 := put(t, r, backup{vm: vmA, name: "web", job: "j2", schedule: "s1", at: t0.Add(time.Hour)})
	a3 := put(t, r, backup{vm: vmA, name: "web", job: "j1", schedule: "s2", at: t0.Add(2 * time.Hour)})
	put(t, r, backup{vm: vmB, name: "db", job: "j1", schedule: "s1", at: t0.Add(3 * time.Hour)})
	tests := []struct {
		name string
		f    catalog.Filter
		want []catalog.ID
	}{
		{"vm", catalog.Filter{VM: vmA}, []catalog.ID{a3, a2, a1}},
		{"vm job", catalog.Filter{VM: vmA, JobID: "j1"}, []catalog.ID{a3, a1}},
		{"vm job schedule", catalog.Filter{VM: vmA, JobID: "j1", ScheduleID: "s1"}, []catalog.ID{a1}},
		{"nothing", catalog.Filter{VM: vmA, JobID: "j9"}, nil},
		{"former names", catalog.Filter{VM: vmA, JobID: "j9", ScheduleID: "s9", FormerJobID: "j1", FormerScheduleID: "s1"}, []catalog.ID{a1}},
	}
	for _, tc := range tests {
		got, _, err := catalog.List(ctx, r, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range tc.want {
			want = append(want, id.String())
		}
		if !slices.Equal(idStrings(got), want) {
			t.Errorf("%s: %v, want %v", tc.name, idStrings(got), want)
		}
	}
	if _, _, err := catalog.List(ctx, r, catalog.Filter{VM: "../etc"}); err == nil || !strings.Contains(err.Error(), `"../etc"`) {
		t.Errorf("bad VM filter: err = %v", err)
	}
}

// Damaged .json files are reported, and the good backups are still listed.
func TestListToleratesGarbage(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	good := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0})
	garbage := "xo-vm-backups/" + vmA + "/20260301T030000Z"
	remotetest.PutBytes(t, r, garbage+".xva", []byte("x"))
	remotetest.PutBytes(t, r, garbage+".json", []byte("{not json"))
	delta := put(t, r, backup{vm: vmB, name: "db", job: "j", schedule: "s", at: t0.Add(2 * time.Hour)})
	rewrite(t, r, delta.MetaKey(), func(s string) string { return strings.Replace(s, `"full"`, `"delta"`, 1) })
	moved := put(t, r, backup{vm: vmB, name: "db", job: "j", schedule: "s", at: t0.Add(3 * time.Hour)})
	rewrite(t, r, moved.MetaKey(), func(s string) string { return strings.Replace(s, vmB, vmA, 1) })
	orphan := put(t, r, backup{vm: vmB, name: "db", job: "j", schedule: "s", at: t0.Add(4 * time.Hour)})
	if err := r.Delete(ctx, orphan.DataKey()); err != nil {
		t.Fatal(err)
	}

	got, problems, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := idStrings(got); !slices.Equal(ids, []string{good.String()}) {
		t.Errorf("listed %v, want only %s", ids, good)
	}
	want := map[string]string{
		garbage + ".json": "invalid backup metadata",
		delta.MetaKey():   `mode "delta"`,
		moved.MetaKey():   "do not match the key",
		orphan.MetaKey():  "metadata without its data file",
	}
	for _, p := range problems {
		if sub, ok := want[p.Key]; !ok || !strings.Contains(p.Err.Error(), sub) {
			t.Errorf("problem %s, want %q", p, sub)
		}
		delete(want, p.Key)
	}
	for k := range want {
		t.Errorf("no problem reported for %s", k)
	}
}

func rewrite(t *testing.T, r remote.Remote, key string, edit func(string) string) {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	remotetest.PutBytes(t, r, key, []byte(edit(string(b))))
}

// failingOpener injects a read fault (an unreadable .json) that a real remote cannot give on
// demand, the tests running as root.
type failingOpener struct {
	*dir.Dir
	fail string // key whose Open fails
}

var errInjected = errors.New("injected read fault")

func (f failingOpener) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == f.fail {
		return nil, errInjected
	}
	return f.Dir.Open(ctx, key)
}

func TestListReadFaultAndCancel(t *testing.T) {
	r := newDir(t, "nfs")
	a := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0})
	b := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0.Add(time.Hour)})
	got, problems, err := catalog.List(context.Background(), failingOpener{r, b.MetaKey()}, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(got), []string{a.String()}) || len(problems) != 1 || !errors.Is(problems[0].Err, errInjected) {
		t.Errorf("got %v, problems %v", idStrings(got), problems)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := catalog.List(ctx, r, catalog.Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	bad, _ := dir.New("bad name", r.Root())
	if _, _, err := catalog.List(context.Background(), bad, catalog.Filter{}); err == nil || !strings.Contains(err.Error(), `"bad name"`) {
		t.Errorf("bad remote name: err = %v", err)
	}
}

func TestReadMetadata(t *testing.T) {
	r := newDir(t, "nfs")
	id := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0, xbr: true})
	m, err := catalog.ReadMetadata(context.Background(), r, id)
	if err != nil || m.VMName() != "web" || m.Xbr.Codec != "gzip" {
		t.Fatalf("ReadMetadata = %+v, %v", m, err)
	}
	missing := id
	missing.Time = missing.Time.Add(time.Second)
	if _, err := catalog.ReadMetadata(context.Background(), r, missing); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("missing: err = %v, want ErrNotFound", err)
	}
}

func TestListEmptyRemote(t *testing.T) {
	for _, f := range []catalog.Filter{{}, {VM: vmA}} {
		got, problems, err := catalog.List(context.Background(), newDir(t, "nfs"), f)
		if err != nil || len(got) != 0 || len(problems) != 0 {
			t.Errorf("empty remote, filter %+v: %v, %v, %v", f, got, problems, err)
		}
	}
}

// XO delta backups and encrypted XO remotes are reported for what they are, not as damage.
func TestListNamesXODeltaAndEncryptedRemotes(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	full := put(t, r, backup{vm: vmA, name: "web", job: "j", schedule: "s", at: t0})
	delta, err := catalog.NewID("nfs", vmA, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	js := strings.Replace(string(must(metadataFor(backup{vm: vmA, name: "web", job: "j", schedule: "s", at: delta.Time}).Marshal())),
		`"full"`, `"delta"`, 1)
	remotetest.PutBytes(t, r, "xo-vm-backups/"+vmA+"/vdis/j/0000/"+delta.Timestamp()+".vhd", []byte("vhd"))
	remotetest.PutBytes(t, r, delta.MetaKey(), []byte(js)) // no .xva: the disks are VHDs
	got, problems, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil || !slices.Equal(idStrings(got), []string{full.String()}) || len(problems) != 1 {
		t.Fatalf("listed %v, problems %v, %v", idStrings(got), problems, err)
	}
	if p := problems[0]; p.Key != delta.MetaKey() || !errors.Is(p.Err, catalog.ErrXODelta) || !catalog.Unsupported(p.Err) ||
		!strings.Contains(p.String(), "XO delta backup: not restorable by xbr yet") {
		t.Errorf("delta backup reported as %v", p)
	}

	remotetest.PutBytes(t, r, "encryption.json", []byte(`{"algorithm":"chacha20-poly1305"}`))
	got, problems, err = catalog.List(ctx, r, catalog.Filter{})
	if err != nil || len(got) != 0 || len(problems) != 2 {
		t.Fatalf("encrypted remote: listed %v, problems %v, %v", idStrings(got), problems, err)
	}
	for _, p := range problems {
		if !errors.Is(p.Err, catalog.ErrEncryptedRemote) || !catalog.Unsupported(p.Err) || !strings.Contains(p.String(), "encrypted XO remote") {
			t.Errorf("on an encrypted remote: %v", p)
		}
	}
	remotetest.PutBytes(t, r, "encryption.json", []byte(`{"algorithm":"none"}`))
	if got, _, err = catalog.List(ctx, r, catalog.Filter{}); err != nil || len(got) != 1 {
		t.Errorf(`with {"algorithm":"none"}: %v %v`, idStrings(got), err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
