package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// useRepos rebuilds the handler with the remotes' repositories; gw, when not
// nil, is an S3 remote configured as "gateway" beside the directory "nfs",
// whose encryption_key_file is keyFile.
func (e *env) useRepos(gw remote.Remote, keyFile ...string) *fn.Repos {
	cfg := []config.Remote{{Name: remoteName, Type: config.RemoteDir, Path: e.root}}
	if len(keyFile) > 0 {
		cfg[0].EncryptionKeyFile = keyFile[0]
	}
	open := testsupport.OpenDir
	if gw != nil {
		cfg = append(cfg, config.Remote{Name: gw.Name(), Type: config.RemoteS3})
		open = func(ctx context.Context, c config.Remote) (remote.Remote, error) {
			if c.Name == gw.Name() {
				return gw, nil
			}
			return testsupport.OpenDir(ctx, c)
		}
	}
	e.remotes = fn.NewRemotes(cfg, open)
	repos := fn.NewRepos(cfg, e.remotes)
	e.h = restore.New(e.pools, e.remotes, e.conn, events.Subjects{},
		restore.Options{ProgressEvery: 50 * time.Millisecond, Repos: repos})
	return repos
}

// storePoint exports vm from the simulator and stores it as a restore point
// of remoteName's repository, as the incremental backup does.
func (e *env) storePoint(repos *fn.Repos, remoteName string, vm xapisim.VMInfo, at time.Time) (catalog.ID, *repo.Repo) {
	e.t.Helper()
	ctx := context.Background()
	rp, err := repos.Ensure(ctx, remoteName)
	must(e.t, err)
	data := e.export(ctx, xapi.VMRef(vm.Ref), compress.None)
	repoimagetest.StorePoint(e.t, rp, vm.UUID, at, bytes.NewReader(data))
	id, err := catalog.NewRepoID(remoteName, vm.UUID, at)
	must(e.t, err)
	return id, rp
}

func TestRestorePointOnDir(t *testing.T) {
	e := newEnv(t, xapisim.Options{DisksPerVM: 2})
	testRestorePoint(t, e, e.useRepos(nil), remoteName)
}

func TestRestorePointOnS3(t *testing.T) {
	e := newEnv(t, xapisim.Options{DisksPerVM: 2})
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	gw, err := s3.New(context.Background(), s3.Config{Name: "gateway", Endpoint: g.Endpoint, Bucket: "backups",
		AccessKey: g.AccessKey, SecretKey: g.SecretKey, PartFloor: s3.MinPartSize})
	must(t, err)
	testRestorePoint(t, e, e.useRepos(gw), "gateway")
}

// A restore point restores byte-exact through the restore function; once a
// chunk is damaged or missing, a restore fails, names the damage and leaves
// no VM.
func testRestorePoint(t *testing.T, e *env, repos *fn.Repos, remoteName string) {
	src := e.halted()
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	id, rp := e.storePoint(repos, remoteName, src, at)

	done := e.completed(request(t, restoreclient.Params{BackupID: id.String(), Start: true}, 1))
	got := e.vmByUUID(done.NewVMUUID)
	if a, b := e.diskDigests(got.Ref), e.diskDigests(src.Ref); !slices.Equal(a, b) || len(a) != 2 {
		t.Fatalf("restored disks %v, source disks %v", a, b)
	}
	if want := src.NameLabel + " (20261206T020000Z)"; got.NameLabel != want || done.NewVMName != want || !done.Started || done.Bytes <= 0 {
		t.Fatalf("restored VM %q, completed %+v; want %q, started", got.NameLabel, done, want)
	}

	keys := repoimagetest.ChunkKeys(t, rp)
	before := e.objects()
	repotest.FlipByte(t, rp, keys[len(keys)-1])
	f := e.failed(request(t, restoreclient.Params{BackupID: id.String(), Key: "damaged"}, 1))
	if !strings.Contains(f.Error, "corrupt") || !strings.Contains(f.Error, "left no VM") {
		t.Errorf("failure of a damaged point: %q", f.Error)
	}
	if after := e.objects(); after != before {
		t.Fatalf("a damaged point left objects: %s before, %s after", before, after)
	}
	missing := keys[len(keys)-1] // the damaged chunk, now gone
	must(t, rp.Remote().Delete(context.Background(), missing))
	f = e.failed(request(t, restoreclient.Params{BackupID: id.String(), Key: "missing"}, 1))
	if !strings.Contains(f.Error, missing[len(missing)-64:]) || !strings.Contains(f.Error, "left no VM") {
		t.Errorf("failure of a point with a missing chunk: %q", f.Error)
	}
	if after := e.objects(); after != before {
		t.Fatalf("a point with a missing chunk left objects: %s before, %s after", before, after)
	}
}

func TestRestorePointRefused(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	e.useRepos(nil)
	src := e.halted()
	id, err := catalog.NewRepoID(remoteName, src.UUID, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	must(t, err)
	before := e.objects()
	f := e.failed(request(t, restoreclient.Params{BackupID: id.String()}, 1))
	if !strings.Contains(f.Error, "does not exist") || e.objects() != before {
		t.Errorf("restore from a remote without repository: %q (%s, was %s)", f.Error, e.objects(), before)
	}
	// the full backup of the same second is never taken for the point
	e.writeBackup(src, backupOpts{codec: compress.None, at: id.Time})
	f = e.failed(request(t, restoreclient.Params{BackupID: id.String(), Key: "again"}, 1))
	if !strings.Contains(f.Error, "does not exist") || e.objects() != before {
		t.Errorf("restore of a point whose full backup exists: %q", f.Error)
	}
}

// An encrypted repository restores with its key; with another key the restore
// fails at once, clearly, and leaves no VM.
func TestRestorePointEncrypted(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	dir := t.TempDir()
	keys := []string{filepath.Join(dir, "right.key"), filepath.Join(dir, "wrong.key")}
	for _, f := range keys {
		k, err := repo.GenerateKey()
		must(t, err)
		must(t, repo.WriteKeyFile(f, k))
	}
	src := e.halted()
	id, _ := e.storePoint(e.useRepos(nil, keys[0]), remoteName, src, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	done := e.completed(request(t, restoreclient.Params{BackupID: id.String()}, 1))
	if a, b := e.diskDigests(e.vmByUUID(done.NewVMUUID).Ref), e.diskDigests(src.Ref); !slices.Equal(a, b) {
		t.Fatalf("restored disks %v, source disks %v", a, b)
	}
	e.useRepos(nil, keys[1])
	before := e.objects()
	f := e.failed(request(t, restoreclient.Params{BackupID: id.String(), Key: "wrong"}, 1))
	if !strings.Contains(strings.ToLower(f.Error), "key") || e.objects() != before {
		t.Fatalf("restore with the wrong key: %q, %s (was %s)", f.Error, e.objects(), before)
	}
}

// guestWrite writes length bytes at offset into the VM's first disk, as its
// guest would (the simulator's /sim/vdi/<uuid>/write).
func (e *env) guestWrite(vm xapisim.VMInfo, offset, length int64) {
	e.t.Helper()
	info, err := e.sim.VM(vm.Ref)
	must(e.t, err)
	rec, err := e.sim.Record("VDI", info.VDIs[0])
	must(e.t, err)
	u := fmt.Sprintf("%s/sim/vdi/%s/write?offset=%d&length=%d&seed=7", e.url, rec["uuid"], offset, length)
	resp, err := http.Post(u, "", nil)
	must(e.t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("guest write: %s", resp.Status)
	}
}

// Two points of one VM, the second stored as an incremental run stores it
// (only the changed chunk given, the rest taken from the first): each
// restores to the disks the VM had when it was taken.
func TestRestoreIncrementalPoints(t *testing.T) {
	e := newEnv(t, xapisim.Options{DisksPerVM: 2})
	repos := e.useRepos(nil)
	src := e.halted()
	t0 := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	first, rp := e.storePoint(repos, remoteName, src, t0)
	before := e.diskDigests(src.Ref)

	e.guestWrite(src, 1<<20+512, 4096) // inside chunk 1 of disk 0
	after := e.diskDigests(src.Ref)
	if slices.Equal(before, after) {
		t.Fatal("the guest write changed nothing")
	}
	data := e.export(context.Background(), xapi.VMRef(src.Ref), compress.None)
	base, _ := repo.ParsePoint(src.UUID + "/" + first.Timestamp())
	repoimagetest.StoreChanged(t, rp, src.UUID, t0.Add(time.Hour), bytes.NewReader(data), base, map[int][]int64{0: {1}})
	second, _ := catalog.NewRepoID(remoteName, src.UUID, t0.Add(time.Hour))

	for _, tc := range []struct {
		id   catalog.ID
		want []string
	}{{second, after}, {first, before}} {
		done := e.completed(request(t, restoreclient.Params{BackupID: tc.id.String(), Key: tc.id.Timestamp()}, 1))
		if got := e.diskDigests(e.vmByUUID(done.NewVMUUID).Ref); !slices.Equal(got, tc.want) {
			t.Fatalf("restore of %s: disks %v, want %v", tc.id, got, tc.want)
		}
	}
}
