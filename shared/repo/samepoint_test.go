package repo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"xbr/shared/repo"
)

// Two backups of one VM that chose the same second (two incremental jobs holding the VM,
// fired at once) write one restore point: the second must fail clearly rather than both
// commit and the later manifest silently replace the earlier, whose caller was told its
// point was written.
func TestSecondWriterOfAPointIsRefused(t *testing.T) {
	ctx := context.Background()
	rp := initRepo(t, newDir(t), repo.Key{})
	first, second := diskImage(60, 3*cs), diskImage(61, 3*cs)
	b1, err := rp.Begin(ctx, vmA, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Abort(ctx)
	fill(t, b1, first)
	b2, err := rp.Begin(ctx, vmA, t0)
	if err == nil {
		defer b2.Abort(ctx)
		fill(t, b2, second)
		_, err = b2.Commit(ctx, json.RawMessage(`{"job":"second"}`))
	}
	p := repo.Point{VM: vmA, Time: t0}
	if err == nil {
		t.Fatalf("a second backup of restore point %s committed while the first was being written", p)
	}
	if !strings.Contains(err.Error(), p.String()) {
		t.Errorf("error does not name the point %s: %v", p, err)
	}
	if _, err := b1.Commit(ctx, json.RawMessage(`{"job":"first"}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := readDisk(t, rp, p); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("restore point %s does not hold the committed image (err %v)", p, err)
	}
}

// fill writes image as the point's one disk.
func fill(t *testing.T, b *repo.Backup, image []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
