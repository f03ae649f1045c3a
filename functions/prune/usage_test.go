package prune_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// oneRemote hands out one opened remote.
type oneRemote struct{ rm remote.Remote }

func (o oneRemote) Names() []string { return []string{o.rm.Name()} }
func (o oneRemote) Get(context.Context, string) (remote.Remote, error) {
	return o.rm, nil
}

// TestUsageAfterARun: when a run ends, the prune function measures each
// remote of the job: a directory remote's used bytes are the sum of its
// files' sizes, its free bytes what statfs says; verify jobs and skipped
// runs measure nothing.
func TestUsageAfterARun(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{"xo-vm-backups/a/20261201T010000Z.xva": 1000, "xo-vm-backups/a/20261201T010000Z.json": 234,
		"xbr-repo/chunks/ab/abcdef": 4096}
	for key, n := range sizes {
		up, err := d.Create(ctx, key, int64(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.Write([]byte(strings.Repeat("x", n))); err != nil {
			t.Fatal(err)
		}
		if err := up.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	jobs := []config.Job{{Name: "nightly", Mode: config.ModeFull, Remotes: []string{"nfs"}},
		{Name: "check", Mode: config.ModeVerify, Remotes: []string{"nfs"}}}
	p := prune.New(jobs, oneRemote{d}, nil, nil, events.Subjects{}, prune.Options{})
	const run = "4e1d3c2b5a69788796a5b4c3d2e1f001"
	outs, err := p.Usage(ctx, events.RunCompleted{RunID: run, Job: "nightly", Schedule: "daily", Status: events.StatusPartial})
	if err != nil || len(outs) != 1 {
		t.Fatalf("Usage: %d events, %v", len(outs), err)
	}
	if outs[0].Subject != "xbr.remote.usage.nfs" {
		t.Errorf("subject %s", outs[0].Subject)
	}
	var u events.RemoteUsage
	if err := json.Unmarshal(outs[0].Event.Data(), &u); err != nil {
		t.Fatal(err)
	}
	if u.UsedBytes != 1000+234+4096 || u.Objects != 3 || u.RunID != run || u.Job != "nightly" || u.Remote != "nfs" {
		t.Errorf("usage %+v, want 5330 bytes in 3 objects", u)
	}
	if free := dir.FreeBytes(d.Root()); u.FreeBytes == nil || *u.FreeBytes <= 0 || *u.FreeBytes > free+(64<<20) || *u.FreeBytes < free-(64<<20) {
		t.Errorf("free bytes %v, statfs says about %d", u.FreeBytes, free)
	}
	for _, rc := range []events.RunCompleted{
		{RunID: run, Job: "check", Schedule: "weekly", Status: events.StatusSuccess},
		{RunID: run, Job: "nightly", Schedule: "daily", Status: events.StatusSkipped},
		{RunID: run, Job: "gone", Schedule: "daily", Status: events.StatusSuccess},
	} {
		if outs, err := p.Usage(ctx, rc); err != nil || len(outs) != 0 {
			t.Errorf("%s %s: %d events (%v), want none", rc.Job, rc.Status, len(outs), err)
		}
	}
}
