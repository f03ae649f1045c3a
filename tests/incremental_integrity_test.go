package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// TestIncrementalFlippedChunk flips one byte in a chunk file that both
// restore points of a dir remote use: `xbr verify --deep` fails naming the
// chunk and both points, and `xbr restore` of a point fails and leaves no
// VM and no disk on the pool.
func TestIncrementalFlippedChunk(t *testing.T) {
	dirPath, rem := dirRemote(t, "nfs")
	e := startIncremental(t, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath), nil, "retention: 5", "incremental,restore")
	e.run(t, 1)
	scatteredWrites(t, e.p.url, e.disk)
	e.run(t, 2)
	points := e.points(t, rem, 2)
	chunk := chunkAt(t, rem, points[0], 0) // chunk 0 is unchanged: both points use it
	if chunk != chunkAt(t, rem, points[1], 0) {
		t.Fatal("the unchanged first chunk has two ids")
	}
	flipByte(t, filepath.Join(dirPath, filepath.FromSlash(chunk)))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + e.p.pass}
	out, errOut, code := xbr(t, e.ctx, env, "verify", "--remote", "nfs", "--deep", "--config", e.cfg, "--nats", e.nats)
	id := chunk[strings.LastIndex(chunk, "/")+1:]
	if code != 1 || !strings.Contains(out, id) {
		t.Fatalf("xbr verify --deep of a flipped chunk: exit %d, want 1 naming chunk %s\n%s\n%s", code, id, out, errOut)
	}
	for _, p := range points {
		if !strings.Contains(out, "FAILED  nfs:xbr-repo/"+p.String()) {
			t.Errorf("xbr verify --deep does not fail point %s, which uses chunk %s:\n%s", p, id, out)
		}
	}
	vms, vdis := len(e.p.sim.VMs()), len(e.p.sim.Refs("VDI"))
	out, errOut, code = xbr(t, e.ctx, nil, "restore", "nfs:xbr-repo/"+points[1].String(), "--wait", "--name", "should not exist", "--nats", e.nats)
	if code != 1 || !strings.Contains(out, "FAILED") {
		t.Fatalf("restore of a point with a damaged chunk: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(e.p.sim.VMs()) != vms || len(e.p.sim.Refs("VDI")) != vdis {
		t.Errorf("the failed restore left objects: %d VMs, %d VDIs (before: %d, %d)", len(e.p.sim.VMs()), len(e.p.sim.Refs("VDI")), vms, vdis)
	}
}

// chunkAt is the object key of chunk i of the first disk of point p, from
// its manifest on rem (a plain repository).
func chunkAt(t *testing.T, rem remote.Remote, p repo.Point, i int) string {
	t.Helper()
	rc, err := rem.Open(t.Context(), "xbr-repo/vms/"+p.String()+".json")
	rsMust(t, err)
	defer rc.Close()
	var m struct {
		ChunkIDs [][]string `json:"chunk_ids"`
	}
	rsMust(t, json.NewDecoder(rc).Decode(&m))
	if len(m.ChunkIDs) == 0 || len(m.ChunkIDs[0]) <= i || m.ChunkIDs[0][i] == "zero" {
		t.Fatalf("point %s has no stored chunk %d", p, i)
	}
	id := m.ChunkIDs[0][i]
	return "xbr-repo/chunks/" + id[:2] + "/" + id
}

// TestIncrementalEncrypted runs an incremental job on a remote with an
// encryption_key_file, on a dir remote and on S3: both points restore
// through `xbr restore --wait`; no object of the remote holds the bytes a
// guest wrote; the wrong key is refused clearly, by a local
// `xbr restore --disk-image` and by a server whose run fails.
func TestIncrementalEncrypted(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		dirPath, rem := dirRemote(t, "nfs")
		encryptedThroughServe(t, func(key string) string {
			return fmt.Sprintf(`  - {name: nfs, type: dir, path: %s, encryption_key_file: %s}`, dirPath, key)
		}, nil, rem)
	})
	t.Run("s3", func(t *testing.T) {
		gw, rem := s3Remote(t, "backups")
		encryptedThroughServe(t, func(key string) string {
			return fmt.Sprintf(`  - {name: nfs, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}", encryption_key_file: %s}`,
				gw.Endpoint, key)
		}, []string{"XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}, rem)
	})
}

func encryptedThroughServe(t *testing.T, remoteYAML func(keyFile string) string, env []string, rem remote.Remote) {
	keyFile, wrongKey := newKeyFile(t), newKeyFile(t)
	e := startIncremental(t, remoteYAML(keyFile), env, "retention: 5", "incremental,restore")
	key, err := repo.ReadKeyFile(keyFile)
	rsMust(t, err)
	e.key = key
	e.run(t, 1)
	first := liveDisks(t, e.c, e.vm.UUID)
	scatteredWrites(t, e.p.url, e.disk)
	e.run(t, 2)
	second := liveDisks(t, e.c, e.vm.UUID)
	points := e.points(t, rem, 2)
	checkPoint(t, e.repo(t, rem), points[0], first)
	e.restoreEquals(t, rem, points[1], second)
	if remoteHolds(t, rem, writtenBytes(t, e, 1<<20+128<<10)) {
		t.Error("an object of the encrypted repository holds bytes the guest wrote, in plaintext")
	}
	if _, err := repo.Open(e.ctx, rem, repo.Key{}); err == nil {
		t.Error("the encrypted repository opened without a key")
	}

	cfg, err := os.ReadFile(e.cfg)
	rsMust(t, err)
	wrong := writeFile(t, "wrong.yaml", strings.Replace(string(cfg), keyFile, wrongKey, 1))
	env = append(env, "XBR_TEST_POOL_PASSWORD="+e.p.pass)
	out, errOut, code := xbr(t, e.ctx, env, "restore", "nfs:xbr-repo/"+points[1].String(), "--disk-image", t.TempDir(), "--config", wrong)
	if code == 0 || !strings.Contains(out+errOut, repo.ErrWrongKey.Error()) {
		t.Errorf("a local restore with the wrong key: exit %d, want a clear refusal\n%s\n%s", code, out, errOut)
	}
	_ = e.s.stop(t, time.Minute)
	s := startServe(t, env, "--config", wrong, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--functions", "incremental")
	nats := s.natsURL(t)
	out, errOut, code = xbr(t, e.ctx, nil, "run", "incr", "--wait", "--nats", nats)
	hist, _, _ := xbr(t, e.ctx, nil, "history", "--nats", nats)
	if code == 0 || !strings.Contains(out+errOut+hist, repo.ErrWrongKey.Error()) {
		t.Errorf("a run with the wrong key: exit %d, want a failure that says the key does not match\n%s\n%s\nhistory:\n%s", code, out, errOut, hist)
	}
	if n := len(e.points(t, rem, 2)); n != 2 {
		t.Errorf("%d points after the refused run", n)
	}
}

// newKeyFile makes a key file with `xbr repo key`.
func newKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "repo.key")
	if out, errOut, code := xbr(t, t.Context(), nil, "repo", "key", "--out", path); code != 0 {
		t.Fatalf("xbr repo key: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
