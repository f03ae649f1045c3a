package repo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/remote/dir"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

func TestWrongKeyIsRefused(t *testing.T) {
	ctx := context.Background()
	r := newDir(t)
	initRepo(t, r, mustKey(t))
	if _, err := repo.Open(ctx, r, mustKey(t)); !errors.Is(err, repo.ErrWrongKey) {
		t.Fatalf("open with another key = %v, want ErrWrongKey", err)
	}
	if _, err := repo.Open(ctx, r, repo.Key{}); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("open with no key = %v, want an error saying the repository is encrypted", err)
	}
	plain := newDir(t)
	initRepo(t, plain, repo.Key{})
	if _, err := repo.Open(ctx, plain, mustKey(t)); err == nil || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("open of a plain repository with a key = %v, want refused", err)
	}
	if _, err := repo.Init(ctx, r, repo.InitOptions{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("init over a repository = %v, want refused", err)
	}
}

// An encrypted repository's files hold no plaintext: neither a recognisable disk pattern nor
// the VM's records.
func TestEncryptedRepositoryHoldsNoPlaintext(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	rp := initRepo(t, d, mustKey(t))
	pattern := []byte("XBR-RECOGNISABLE-PATTERN-")
	image := bytes.Repeat(pattern, 6*cs/len(pattern)+1)[:6*cs]
	copy(image[cs:], diskImage(60, cs)) // one random chunk too
	ctx := context.Background()
	b, _ := rp.Begin(ctx, vmA, t0)
	w, _ := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, json.RawMessage(`{"name_label":"SECRET-VM-NAME"}`)); err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		for _, secret := range [][]byte{pattern[:12], []byte("SECRET-VM-NAME"), []byte("xvda")} {
			if bytes.Contains(data, secret) {
				t.Errorf("%s holds %q in the clear", path, secret)
			}
		}
		return err
	})
	if err != nil || files < 4 {
		t.Fatalf("walked %d files, %v: want config, chunks and the manifest", files, err)
	}
	got, err := readDisk(t, rp, b.Point())
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
}

// A manifest copied to another VM's folder does not open: it is bound to its key.
func TestEncryptedManifestIsBoundToItsKey(t *testing.T) {
	ctx := context.Background()
	rp := initRepo(t, newDir(t), mustKey(t))
	writePoint(t, rp, vmA, t0, diskImage(61, 2*cs))
	r := rp.Remote()
	src := repo.Root + "/vms/" + vmA + "/20261206T020000Z.json"
	dst := repo.Root + "/vms/" + vmB + "/20261206T020000Z.json"
	rc, err := r.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	u, _ := r.Create(ctx, dst, int64(buf.Len()))
	u.Write(buf.Bytes())
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Manifest(ctx, repo.Point{VM: vmB, Time: t0}); !errors.Is(err, repo.ErrCorrupt) {
		t.Fatalf("moved manifest opened: %v, want ErrCorrupt", err)
	}
}

func TestKeyFile(t *testing.T) {
	k := mustKey(t)
	path := filepath.Join(t.TempDir(), "repo.key")
	if err := repo.WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if err := repo.WriteKeyFile(path, k); err == nil {
		t.Fatal("WriteKeyFile replaced an existing key file")
	}
	back, err := repo.ReadKeyFile(path)
	if err != nil || !bytes.Equal(repo.EncodeKey(back), repo.EncodeKey(k)) {
		t.Fatalf("key read back differs: %v", err)
	}
	text := string(repo.EncodeKey(k))
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "key", k)
	js, _ := json.Marshal(map[string]any{"k": k})
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), logged.String(), string(js)} {
		if strings.Contains(s, strings.TrimSpace(text)) || strings.Contains(s, text[:8]) {
			t.Errorf("key printed in %q", s)
		}
	}
	if _, err := repo.ParseKey([]byte("c2hvcnQ=")); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("ParseKey of a short key = %v, want an error that does not quote it", err)
	}
}

// A plain manifest whose image digest was altered reads back to an error, never to a clean
// io.EOF (a flat SHA-256, which no writer records any more, is TestFlatSHA256IsCheckedWhenPresent's).
func TestDiskDigestMismatch(t *testing.T) {
	root := t.TempDir()
	d, _ := dir.New("nfs", root)
	rp := initRepo(t, d, repo.Key{})
	image := diskImage(8, 3*cs)
	writePoint(t, rp, vmA, t0, image)
	path := filepath.Join(root, repo.Root, "vms", vmA, "20261206T020000Z.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, digest := range []string{repotest.ImageDigest(image, cs)} {
		altered := bytes.Replace(data, []byte(digest), []byte(sum(image[1:])), 1)
		if bytes.Equal(altered, data) {
			t.Fatalf("the manifest does not hold the digest %s", digest)
		}
		if err := os.WriteFile(path, altered, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = readDisk(t, rp, repo.Point{VM: vmA, Time: t0})
		if !errors.Is(err, repo.ErrDiskDigest) {
			t.Fatalf("read with digest %s altered = %v, want ErrDiskDigest", digest, err)
		}
	}
}
