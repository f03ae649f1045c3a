package restoreclient_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
)

const (
	vmA = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	vmB = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
)

// put writes one backup (a stand-in .xva and its .json) under root.
func put(t *testing.T, root, vm, name string, at time.Time, xbr bool) {
	t.Helper()
	ts := catalog.FormatTimestamp(at)
	rec, _ := json.Marshal(map[string]string{"uuid": vm, "name_label": name})
	m := catalog.Metadata{JobID: "job-uuid", Mode: catalog.ModeFull, ScheduleID: "sched-uuid", Timestamp: at.UnixMilli(),
		Version: catalog.MetadataVersion, VM: rec, VMSnapshot: rec, XVA: "./" + ts + ".xva", Size: 3}
	if xbr {
		m.Xbr = &catalog.Xbr{Version: "1", SHA256: strings.Repeat("ab", 32), Codec: "zstd", Job: "nightly", Schedule: "daily"}
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "xo-vm-backups", vm)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, content := range map[string][]byte{ts + ".xva": []byte("xva"), ts + ".json": data} {
		if err := os.WriteFile(filepath.Join(dir, file), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestList(t *testing.T) {
	nfs, s3, broken := t.TempDir(), t.TempDir(), t.TempDir()
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vmA, "web", t0, true)
	put(t, nfs, vmA, "web", t0.Add(24*time.Hour), true)
	put(t, s3, vmA, "web", t0.Add(12*time.Hour), false) // written by Xen Orchestra
	put(t, s3, vmB, "db", t0.Add(48*time.Hour), true)
	// a .json that is not valid metadata: a problem, not a failure
	if err := os.MkdirAll(filepath.Join(broken, "xo-vm-backups", vmB), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"20240301T020000Z.json", "20240301T020000Z.xva"} {
		if err := os.WriteFile(filepath.Join(broken, "xo-vm-backups", vmB, f), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs := fn.NewRemotes([]config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs},
		{Name: "s3", Type: config.RemoteDir, Path: s3}, {Name: "broken", Type: config.RemoteDir, Path: broken}}, testsupport.OpenDir)
	ctx := context.Background()
	tests := []struct {
		name     string
		q        restoreclient.Query
		want     []string // ids, in order
		problems int
		err      string
	}{
		{"all", restoreclient.Query{}, []string{"s3:" + vmB + "/20240303T020000Z", "nfs:" + vmA + "/20240302T020000Z",
			"s3:" + vmA + "/20240301T140000Z", "nfs:" + vmA + "/20240301T020000Z"}, 1, ""},
		{"one remote", restoreclient.Query{Remote: "nfs"}, []string{"nfs:" + vmA + "/20240302T020000Z", "nfs:" + vmA + "/20240301T020000Z"}, 0, ""},
		{"one VM", restoreclient.Query{VM: vmB}, []string{"s3:" + vmB + "/20240303T020000Z"}, 1, ""},
		{"unknown remote", restoreclient.Query{Remote: "tape"}, nil, 0, `remote "tape" is not configured`},
		{"one VM by name", restoreclient.Query{VM: "db"}, []string{"s3:" + vmB + "/20240303T020000Z"}, 1, ""},
		{"a name on one remote", restoreclient.Query{VM: "web", Remote: "s3"}, []string{"s3:" + vmA + "/20240301T140000Z"}, 0, ""},
		{"unknown name", restoreclient.Query{VM: "../etc"}, nil, 0, `vm: no VM named "../etc" has a backup`},
		{"bad name", restoreclient.Query{VM: "a\x00b"}, nil, 0, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := restoreclient.List(ctx, rs, nil, tc.q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, b := range l.Backups {
				ids = append(ids, b.ID.String())
			}
			if strings.Join(ids, " ") != strings.Join(tc.want, " ") || len(l.Problems) != tc.problems {
				t.Fatalf("ids %v problems %v, want %v and %d problems", ids, l.Problems, tc.want, tc.problems)
			}
		})
	}
	l, err := restoreclient.List(ctx, rs, nil, restoreclient.Query{})
	if err != nil {
		t.Fatal(err)
	}
	xo := l.Backups[2]
	if xo.WrittenBy != "xo" || xo.Codec != "" || xo.Job != "job-uuid" || xo.Schedule != "sched-uuid" || xo.VMName != "web" {
		t.Fatalf("XO backup listed as %+v", xo)
	}
	if b, ok := restoreclient.Latest(l.Backups, "web"); !ok || b.ID.String() != "nfs:"+vmA+"/20240302T020000Z" {
		t.Fatalf("latest of web: %+v %v", b, ok)
	}
	if b, ok := restoreclient.At(l.Backups, vmA, time.Date(2024, 3, 1, 14, 0, 0, 0, time.UTC)); !ok || b.Remote != "s3" {
		t.Fatalf("web at 14:00: %+v %v", b, ok)
	}
	if _, ok := restoreclient.Latest(l.Backups, "mail"); ok {
		t.Fatal("a VM without backups has a latest one")
	}
}

func TestBackupJSONFields(t *testing.T) {
	id, err := catalog.ParseID("nfs:" + vmA + "/20240301T020000Z")
	if err != nil {
		t.Fatal(err)
	}
	b := catalog.Backup{ID: id, Remote: "nfs", VMUUID: vmA, VMName: "web",
		Timestamp: time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC), Size: 3, Codec: "zstd", Job: "nightly", Schedule: "daily"}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "remote", "vm_uuid", "vm_name", "timestamp", "size", "codec", "job", "schedule"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", data, k)
		}
	}
	if m["id"] != id.String() {
		t.Errorf("id travels as %v, want the string %q", m["id"], id)
	}
	var back catalog.Backup // what the CLI decodes from the backups query
	if err := json.Unmarshal(data, &back); err != nil || back != b {
		t.Errorf("decoded %+v, %v; want %+v", back, err, b)
	}
	if err := json.Unmarshal([]byte(`{"id":"nfs:../../etc/x"}`), &back); err == nil {
		t.Error("a garbage id decoded")
	}
}

// A repository that cannot be opened hides only its restore points: the full
// backups of its remote are still listed, and the problem names the remote
// and says what is missing, with or without the remote named by the query.
func TestListUnopenableRepository(t *testing.T) {
	nfs, other := t.TempDir(), t.TempDir()
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vmA, "web", t0.Add(24*time.Hour), true)
	put(t, other, vmA, "web", t0, true)
	if err := os.MkdirAll(filepath.Join(nfs, "xbr-repo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nfs, "xbr-repo", "config.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs}, {Name: "other", Type: config.RemoteDir, Path: other}}
	rs := fn.NewRemotes(cfg, testsupport.OpenDir)
	repos := fn.NewRepos(cfg, rs)
	newest := "nfs:" + vmA + "/20240302T020000Z"
	for _, q := range []restoreclient.Query{{VM: vmA}, {VM: "web"}, {}, {Remote: "nfs", VM: vmA}} {
		l, err := restoreclient.List(context.Background(), rs, repos, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if len(l.Backups) == 0 || l.Backups[0].ID.String() != newest {
			t.Errorf("%+v: listed %d backups, the first %v; want %s first", q, len(l.Backups), l.Backups, newest)
		}
		if len(l.Problems) != 1 || !strings.HasPrefix(l.Problems[0], "nfs: restore points not listed: ") ||
			!strings.Contains(l.Problems[0], "config.json") {
			t.Errorf("%+v: problems %q, want one naming nfs, the restore points and config.json", q, l.Problems)
		}
	}
}
