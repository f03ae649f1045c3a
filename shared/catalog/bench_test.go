package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/retention"
)

// BenchmarkListAndDecide10k lists 10,000 backups (20 VMs × 500, realistic XO-sized metadata
// with full XAPI records) on a directory remote and decides depth + long-term retention for
// every VM, as a prune of the whole remote would.
func BenchmarkListAndDecide10k(b *testing.B) { benchListAndDecide(b, false) }

// BenchmarkListAndDecide10kCached is the same with a fresh cache.json.gz in every VM folder,
// written as Xen Orchestra writes it: a listing reads 20 caches instead of 10,000 files.
func BenchmarkListAndDecide10kCached(b *testing.B) { benchListAndDecide(b, true) }

func benchListAndDecide(b *testing.B, cached bool) {
	const vms, perVM = 20, 500
	r := newDir(b, "nfs")
	writeBackups(b, r.Root(), vms, perVM)
	if cached {
		for v := range vms {
			catalogtest.WriteXOCache(b, r, benchVM(v))
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	policy := retention.Policy{Depth: 7, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 2, Location: paris}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		backups, problems, err := catalog.List(ctx, r, catalog.Filter{})
		if err != nil || len(problems) != 0 || len(backups) != vms*perVM {
			b.Fatalf("listed %d, problems %v, err %v", len(backups), problems, err)
		}
		byVM := map[string][]retention.Item{}
		for _, bk := range backups {
			byVM[bk.VMUUID] = append(byVM[bk.VMUUID], retention.Item{ID: bk.ID.String(), Time: bk.Timestamp})
		}
		for _, items := range byVM {
			if _, err := retention.Decide(items, policy); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(vms*perVM), "backups/op")
}

// writeBackups lays the files out directly (the dir remote's committed form): committing
// 20,000 files through Create/Commit would spend the setup in fsync.
func writeBackups(b *testing.B, root string, vms, perVM int) {
	b.Helper()
	var sample map[string]json.RawMessage
	raw, err := os.ReadFile("testdata/xo-full-backup.json")
	if err != nil || json.Unmarshal(raw, &sample) != nil {
		b.Fatalf("sample: %v", err)
	}
	var vm map[string]any
	if err := json.Unmarshal(sample["vm"], &vm); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 1, 30, 0, 0, time.UTC)
	for v := range vms {
		uuid := benchVM(v)
		vm["uuid"], vm["name_label"] = uuid, fmt.Sprintf("vm-%02d", v)
		folder := filepath.Join(root, "xo-vm-backups", uuid)
		if err := os.MkdirAll(folder, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range perVM {
			at := start.Add(time.Duration(i) * 12 * time.Hour)
			ts := catalog.FormatTimestamp(at)
			vmJSON, _ := json.Marshal(vm)
			m := catalog.Metadata{JobID: "job", Mode: catalog.ModeFull, ScheduleID: "sched",
				Timestamp: at.UnixMilli(), Version: catalog.MetadataVersion, VM: vmJSON,
				VMSnapshot: sample["vmSnapshot"], XVA: "./" + ts + ".xva", Size: 1 << 30}
			js, err := m.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			if os.WriteFile(filepath.Join(folder, ts+".xva"), nil, 0o644) != nil ||
				os.WriteFile(filepath.Join(folder, ts+".json"), js, 0o644) != nil {
				b.Fatal("write backup files")
			}
		}
	}
}

func benchVM(v int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", v, v) }
