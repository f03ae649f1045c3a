package restoreclient_test

import (
	"context"
	"errors"
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
	"xbr/shared/vmname"
)

func TestByVM(t *testing.T) {
	const vmC = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	bs := []catalog.Backup{
		{VMUUID: vmA, VMName: "web", Pool: "lab"},
		{VMUUID: vmB, VMName: "db", Pool: "lab"},
		{VMUUID: vmA, VMName: "web"},
		{VMUUID: vmC, VMName: "web", Pool: "prod"},
		{VMUUID: vmB, VMName: "db"},
	}
	got, err := restoreclient.ByVM(bs, vmB)
	if err != nil || len(got) != 2 || got[0].VMUUID != vmB || got[1].VMUUID != vmB {
		t.Fatalf("by uuid: %v %v", got, err)
	}
	got, err = restoreclient.ByVM(bs, "db")
	if err != nil || len(got) != 2 || got[0].Pool != "lab" || got[1].Pool != "" {
		t.Fatalf("by name: %v %v", got, err)
	}
	if got, err = restoreclient.ByVM(bs, "9a8b7c6d-5e4f-4a3b-8c2d-000000000000"); err != nil || len(got) != 0 {
		t.Fatalf("a uuid without backups: %v %v", got, err)
	}

	_, err = restoreclient.ByVM(bs, "web")
	var amb *vmname.AmbiguousError
	if !errors.As(err, &amb) {
		t.Fatalf("a name two VMs share: %v", err)
	}
	want := `vm "web": names 2 VMs (` + vmA + ` in pool lab, ` + vmC + ` in pool prod): give the uuid`
	if err.Error() != want {
		t.Fatalf("ambiguity error\n got %s\nwant %s", err, want)
	}

	_, err = restoreclient.ByVM(bs, "mail")
	if !errors.Is(err, vmname.ErrNotFound) || err.Error() != `vm: no VM named "mail" has a backup` {
		t.Fatalf("an unknown name: %v", err)
	}
}

func TestPick(t *testing.T) {
	t1 := time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC)
	bs := []catalog.Backup{ // newest first
		{VMUUID: vmA, VMName: "web", Timestamp: t1.Add(time.Hour)},
		{VMUUID: vmA, VMName: "web", Timestamp: t1},
	}
	for _, tc := range []struct {
		vm, at string
		want   time.Time
		err    string
	}{
		{"web", "latest", t1.Add(time.Hour), ""},
		{vmA, "20240501T020013Z", t1, ""},
		{"web", "2024-05-01T04:00:13+02:00", t1, ""},
		{"web", "20200101T000000Z", time.Time{}, `backup "20200101T000000Z": no backup of web was taken at that time`},
		{"db", "latest", time.Time{}, `vm "db": has no backup`},
	} {
		at, err := restoreclient.ParseBackupTime(tc.at)
		if err != nil {
			t.Fatal(err)
		}
		b, err := restoreclient.Pick(restoreclient.Listing{Backups: bs}, tc.vm, at)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Pick(%s, %s) = %v, want %s", tc.vm, tc.at, err, tc.err)
			}
			continue
		}
		if err != nil || !b.Timestamp.Equal(tc.want) {
			t.Errorf("Pick(%s, %s) = %v %v, want %v", tc.vm, tc.at, b.Timestamp, err, tc.want)
		}
	}
	if _, err := restoreclient.ParseBackupTime("yesterday"); err == nil {
		t.Error("ParseBackupTime accepted \"yesterday\"")
	}
}

// FuzzParseBackupTime: a client's backup time is latest, a UTC time, or an
// error; it never panics.
func FuzzParseBackupTime(f *testing.F) {
	for _, s := range []string{"latest", "20240501T020013Z", "2024-05-01T04:00:13+02:00", "", "yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := restoreclient.ParseBackupTime(s)
		if err == nil && s != restoreclient.LatestBackup && at.Location() != time.UTC {
			t.Fatalf("ParseBackupTime(%q) = %v", s, at)
		}
	})
}

// The newest backup of a VM is not picked from a listing with problems: the
// remote or repository that could not be read may hold a newer one. A
// backup chosen by its time still is.
func TestPickIncompleteListing(t *testing.T) {
	nfs, other := t.TempDir(), t.TempDir()
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vmA, "web", t0.Add(24*time.Hour), true)
	put(t, other, vmA, "web", t0, true)
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs}, {Name: "other", Type: config.RemoteDir, Path: other}}
	rs := fn.NewRemotes(cfg, testsupport.OpenDir)
	ctx := context.Background()
	if _, err := fn.NewRepos(cfg, rs).Ensure(ctx, "nfs"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nfs, "xbr-repo", "config.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := restoreclient.List(ctx, rs, fn.NewRepos(cfg, rs), restoreclient.Query{VM: "web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, vm := range []string{"web", vmA, "mail"} {
		b, err := restoreclient.Pick(l, vm, time.Time{})
		var inc *restoreclient.IncompleteError
		if !errors.As(err, &inc) || !strings.Contains(err.Error(), "nfs: restore points not listed") ||
			!strings.Contains(err.Error(), "config.json") || !strings.Contains(err.Error(), "backup id") {
			t.Errorf("latest of %s from an incomplete listing: %s, %v; want an IncompleteError naming nfs and why", vm, b.ID, err)
		}
	}
	for _, at := range []time.Time{t0, t0.Add(24 * time.Hour)} {
		if b, err := restoreclient.Pick(l, "web", at); err != nil || !b.Timestamp.Equal(at) {
			t.Errorf("web at %s: %s, %v", at, b.ID, err)
		}
	}
	_, err = restoreclient.Pick(l, "web", t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "nfs: restore points not listed") {
		t.Errorf("web at a time no listed backup has: %v; want it to name the problem", err)
	}
}

// A VM named rather than given by uuid is listed with every VM's backups,
// to resolve its name; the problems that can hide a newer backup of it are
// those of its own folders and of whole remotes, not another VM's damaged
// backup or the pool metadata's: with those alone its newest is picked.
func TestPickByNameIgnoresOtherVMsProblems(t *testing.T) {
	nfs := t.TempDir()
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vmA, "web", t0, true)
	put(t, nfs, vmA, "web", t0.Add(24*time.Hour), true)
	put(t, nfs, vmB, "mail", t0, true)
	damaged := filepath.Join(nfs, "xo-vm-backups", vmB, catalog.FormatTimestamp(t0)+".json")
	if err := os.WriteFile(damaged, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs}}
	rs := fn.NewRemotes(cfg, testsupport.OpenDir)
	ctx := context.Background()
	l, err := restoreclient.List(ctx, rs, fn.NewRepos(cfg, rs), restoreclient.Query{VM: "web"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := restoreclient.Pick(l, "web", time.Time{})
	if err != nil || !b.Timestamp.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("latest of web with mail's backup damaged: %s, %v; want web's newest", b.ID, err)
	}
	// The same damage in web's own folder still makes the newest unknown.
	put(t, nfs, vmA, "web", t0.Add(48*time.Hour), true)
	own := filepath.Join(nfs, "xo-vm-backups", vmA, catalog.FormatTimestamp(t0.Add(48*time.Hour))+".json")
	if err := os.WriteFile(own, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err = restoreclient.List(ctx, rs, fn.NewRepos(cfg, rs), restoreclient.Query{VM: "web"}); err != nil {
		t.Fatal(err)
	}
	var inc *restoreclient.IncompleteError
	if b, err := restoreclient.Pick(l, "web", time.Time{}); !errors.As(err, &inc) {
		t.Fatalf("latest of web with its own newest backup damaged: %s, %v; want an IncompleteError", b.ID, err)
	}
}

// A problem that names a backup older than the newest one listed cannot hide
// a newer one: the newest is picked. One without a time, or a newer one,
// still makes the newest unknown.
func TestPickPastOlderProblems(t *testing.T) {
	nfs := t.TempDir()
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vmA, "web", t0, true)
	put(t, nfs, vmA, "web", t0.Add(24*time.Hour), true)
	damaged := filepath.Join(nfs, "xo-vm-backups", vmA, catalog.FormatTimestamp(t0)+".json")
	if err := os.WriteFile(damaged, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs}}
	rs := fn.NewRemotes(cfg, testsupport.OpenDir)
	ctx := context.Background()
	l, err := restoreclient.List(ctx, rs, fn.NewRepos(cfg, rs), restoreclient.Query{VM: vmA})
	if err != nil || len(l.Problems) != 1 {
		t.Fatalf("listing: %+v, %v; want one problem", l.Problems, err)
	}
	if b, err := restoreclient.Pick(l, vmA, time.Time{}); err != nil || !b.Timestamp.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("latest past an older damaged backup: %s, %v; want the newest", b.ID, err)
	}
	l.Problems = append(l.Problems, "other: remote not listed: connection refused")
	var inc *restoreclient.IncompleteError
	if b, err := restoreclient.Pick(l, vmA, time.Time{}); !errors.As(err, &inc) {
		t.Fatalf("latest with a remote not listed: %s, %v; want an IncompleteError", b.ID, err)
	}
}

// Which problems name the one backup they are about, and its time.
func TestPickProblemTimes(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	newest := catalog.Backup{Timestamp: t0.Add(time.Hour)}
	l := restoreclient.Listing{Backups: []catalog.Backup{{VMUUID: vmA, Timestamp: newest.Timestamp}}}
	for _, c := range []struct {
		problem string
		hides   bool
	}{
		{"nfs: xo-vm-backups/" + vmA + "/20240301T020000Z.json: invalid backup metadata", false},
		{"nfs: restore point " + vmA + "/20240301T020000Z: corrupt: bad digest", false},
		{"nfs: xo-vm-backups/" + vmA + "/20240301T040000Z.json: invalid backup metadata", true},
		{"nfs: remote not listed: open xo-vm-backups/" + vmA + "/20240301T020000Z.json: permission denied", true},
		{"nfs: restore points not listed: xbr-repo/vms/" + vmA + "/20240301T020000Z.json: connection reset", true},
	} {
		l.Problems = []string{c.problem}
		_, err := restoreclient.Pick(l, vmA, time.Time{})
		var inc *restoreclient.IncompleteError
		if got := errors.As(err, &inc); got != c.hides {
			t.Errorf("%q: refused %v, want %v (%v)", c.problem, got, c.hides, err)
		}
	}
}
