package prune_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// BenchmarkPruneAfterExport is the prune of one export.completed on a
// directory remote whose VM folder holds 500 backups of the job (depth 500,
// so each new backup deletes the oldest): list the folder, read 500 .json,
// decide, delete one backup.
func BenchmarkPruneAfterExport(b *testing.B) {
	const depth = 500
	root := b.TempDir()
	r, err := dir.New("store", root)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse("b.yaml", fmt.Appendf(nil, `pools: [{name: lab, url: "http://127.0.0.1:1", username: root, password: x}]
remotes: [{name: store, type: dir, path: %q}]
jobs:
  - {name: nightly, pools: [lab], remotes: [store], schedules: [{name: daily, cron: "0 2 * * *", retention: %d}]}
`, root, depth))
	if err != nil {
		b.Fatal(err)
	}
	p := prune.New(cfg.Jobs, remoteMap{"store": r}, nil, poolMap{}, events.Subjects{}, prune.Options{SweepEvery: -1})
	vm := "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(i int) catalog.ID {
		at := start.Add(time.Duration(i) * time.Hour)
		id, _ := catalog.NewID("store", vm, at)
		m := catalog.Metadata{JobID: "nightly", Mode: catalog.ModeFull, ScheduleID: "daily", Timestamp: at.UnixMilli(),
			Version: catalog.MetadataVersion, VM: fmt.Appendf(nil, `{"uuid":%q,"name_label":"web"}`, vm),
			VMSnapshot: []byte(`{"uuid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}`), XVA: "./" + id.Timestamp() + ".xva", Size: 4}
		js, err := m.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		remotetest.PutBytes(b, r, id.DataKey(), []byte("data"))
		remotetest.PutBytes(b, r, id.MetaKey(), js)
		return id
	}
	for i := range depth {
		write(i)
	}
	ctx := context.Background()
	n := depth
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		id := write(n)
		n++
		run := fmt.Sprint("run", n)
		m, err := events.Subjects{}.Message(events.Meta{ID: run, Source: "/bench", Time: start}, events.ExportCompleted{
			RunID: run, Job: "nightly", Schedule: "daily", VMUUID: vm, Pool: "lab", Timestamp: id.Timestamp(),
			Codec: events.CodecNone, SHA256: strings.Repeat("ab", 32),
			Backups: []events.RemoteBackup{{Remote: "store", BackupID: id.String()}}})
		if err != nil {
			b.Fatal(err)
		}
		ev := redeliver(b, m, 1)
		b.StartTimer()
		outs, err := p.Handle(ctx, ev)
		if err != nil || len(outs) != 1 {
			b.Fatalf("outs %d, err %v", len(outs), err)
		}
	}
}
