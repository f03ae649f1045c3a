package xapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

func dumpDB(t *testing.T, c *xapi.Client) []byte {
	t.Helper()
	tr, err := c.DumpPoolDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close = %v, want the task's success", err)
	}
	return b
}

// The dump is XAPI's XML database, the same bytes for the same state, and
// another state gives other bytes.
func TestSimPoolDatabaseDump(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{VMs: 2})
	c := connect(t, url, xapi.XMLRPC)
	first, second := dumpDB(t, c), dumpDB(t, c)
	if !bytes.Equal(first, second) {
		t.Fatalf("two dumps of one state differ:\n%s\n%s", first, second)
	}
	for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?><database><manifest><pair key="schema_major_vsn"`,
		`<table name="VM"><row `, `name__label="`, `<table name="pool">`, "</database>"} {
		if !strings.Contains(string(first), want) {
			t.Fatalf("dump lacks %q:\n%s", want, first)
		}
	}
	if strings.Contains(string(first), `<table name="task">`) {
		t.Fatal("the dump holds the task table, which XAPI does not persist")
	}
	vm, _ := plainVM(t, c, xapi.Halted)
	if _, err := c.Call(context.Background(), "VM.set_name_label", vm, "renamed-for-dump"); err != nil {
		t.Fatal(err)
	}
	if third := dumpDB(t, c); !strings.Contains(string(third), "renamed-for-dump") {
		t.Fatal("the dump does not follow the database")
	}
	if n := len(sim.DBRestores()); n != 0 {
		t.Fatalf("%d restores recorded before any upload", n)
	}
}

// An upload is checked and recorded, dry run or not; one that is not a
// database fails in the task and is not recorded.
func TestSimPoolDatabaseRestore(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{VMs: 1})
	c := connect(t, url, xapi.XMLRPC)
	dump := dumpDB(t, c)
	ctx := context.Background()
	if err := c.RestorePoolDatabase(ctx, bytes.NewReader(dump), int64(len(dump)), true); err != nil {
		t.Fatal(err)
	}
	if err := c.RestorePoolDatabase(ctx, bytes.NewReader(dump), int64(len(dump)), false); err != nil {
		t.Fatal(err)
	}
	bad := []byte("<html>not a database</html>")
	err := c.RestorePoolDatabase(ctx, bytes.NewReader(bad), int64(len(bad)), false)
	if err == nil || !strings.Contains(err.Error(), "RESTORE_INCOMPATIBLE_VERSION") {
		t.Fatalf("garbage upload: err = %v, want RESTORE_INCOMPATIBLE_VERSION", err)
	}
	if err := c.RestorePoolDatabase(ctx, bytes.NewReader(dump), -1, false); err == nil {
		t.Fatal("an upload of unknown length was sent")
	}
	got := sim.DBRestores()
	if len(got) != 2 || !got[0].DryRun || got[1].DryRun || got[1].Bytes != int64(len(dump)) || got[1].Rows == 0 {
		t.Fatalf("restores = %+v, want a dry run then a restore of %d bytes", got, len(dump))
	}
}

// TestSimPoolDatabaseRestoreFailureLeavesNoTask: an upload that fails midway
// (the backup's remote failed) cancels and removes its task, as an import's
// does: XAPI keeps a pending task for a day.
func TestSimPoolDatabaseRestoreFailureLeavesNoTask(t *testing.T) {
	_, url := startSim(t, xapisim.Options{VMs: 1})
	c := connect(t, url, xapi.XMLRPC)
	dump := dumpDB(t, c)
	before := countTasks(t, c)
	err := c.RestorePoolDatabase(context.Background(), &failingReader{r: bytes.NewReader(dump[:len(dump)/2]), err: errors.New("the backup could not be read (injected)")}, int64(len(dump)), true)
	if err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("upload of a failing body: %v, want its error", err)
	}
	testsupport.Eventually(t, 10*time.Second, "the restore's task to be gone", func() bool {
		return countTasks(t, c) == before
	})
}
