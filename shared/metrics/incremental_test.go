package metrics_test

import (
	"testing"

	"xbr/events"
	"xbr/shared/metrics"
)

// TestIncrementalCounters: a committed incremental point counts its path
// and reason, the bytes read from the host, the new bytes stored, the
// chunks patched over their base and the base chunks it could not read.
func TestIncrementalCounters(t *testing.T) {
	m := metrics.New(nil)
	c := events.IncrementalCompleted{RunID: runID, Job: "incr", Schedule: "nightly", VMUUID: vmA, Pool: "lab",
		Timestamp: "20261129T010000Z", Path: events.PathFullScan, PathReason: events.PathReasonNoNBD, BytesRead: 4096,
		BytesStored: 1000, ChunksPatched: 3, BaseChunksUnreadable: 2, Backups: []events.RemoteBackup{{Remote: "repo", BackupID: "repo:xbr-repo/" + vmA + "/20261129T010000Z"}}}
	m.Apply(received(t, c))
	m.Apply(received(t, events.IncrementalFailed{RunID: runID, Job: "incr", Schedule: "nightly", VMUUID: vmB, Pool: "lab", Error: "x"}))
	want := map[string]float64{
		"xbr_incremental_points_total":                 1,
		"xbr_incremental_bytes_read_total":             4096,
		"xbr_incremental_chunks_patched_total":         3,
		"xbr_incremental_base_chunks_unreadable_total": 2,
		"xbr_backup_bytes_written_total":               1000,
		"xbr_failures_total":                           1,
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		w, ok := want[f.GetName()]
		if !ok {
			continue
		}
		delete(want, f.GetName())
		got := f.GetMetric()[0].GetCounter().GetValue()
		labels := f.GetMetric()[0].GetLabel()
		if got != w {
			t.Errorf("%s = %v, want %v (%v)", f.GetName(), got, w, labels)
		}
		if f.GetName() == "xbr_incremental_points_total" && (labels[1].GetValue() != "full-scan" || labels[2].GetValue() != "no-nbd") {
			t.Errorf("points labels %v", labels)
		}
	}
	if len(want) > 0 {
		t.Errorf("not exposed: %v", want)
	}
}

func received(t *testing.T, p events.Payload) events.Received {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("metrics-inc", string(p.EventType())),
		Source: events.Source("test"), Time: t0}, p)
	if err != nil {
		t.Fatal(err)
	}
	return events.Received{Message: m, Payload: p}
}
