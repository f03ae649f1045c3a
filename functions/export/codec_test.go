package export_test

import (
	"fmt"
	"testing"
	"time"

	"xbr/events"
)

// TestCodecs backs up with each in-process codec and with XAPI compressing.
func TestCodecs(t *testing.T) {
	variants := []struct {
		job, compression, xapi, stored string
	}{
		{"gzip", "gzip", "none", "gzip"},
		{"zstd", "zstd", "none", "zstd"},
		{"plain", "none", "none", "none"},
		{"xapi-gzip", "none", "gzip", "gzip"},
		{"xapi-zstd", "none", "zstd", "zstd"},
	}
	jobs := ""
	for _, v := range variants {
		jobs += fmt.Sprintf(oneVMJob, v.job, "local", v.compression, v.xapi, 0)
	}
	e := newEnv(t, 1, jobs, false)
	e.start()
	for i, v := range variants {
		t.Run(v.job, func(t *testing.T) {
			run := e.fire(v.job, "daily", fireAt.Add(time.Duration(i)*time.Hour))
			if done := e.runCompleted(run); done.Status != events.StatusSuccess {
				t.Fatalf("run.completed: %+v", done)
			}
			var found bool
			bs := list(t, e.remotes["local"])
			if len(bs) != i+1 {
				t.Fatalf("%d backups after %d runs: one overwrote another", len(bs), i+1)
			}
			for _, b := range bs {
				if b.Job == v.job {
					found = true
					e.assertBackup(e.remotes["local"], b, v.job, "daily", v.stored)
				}
			}
			if !found {
				t.Fatalf("no backup of job %s", v.job)
			}
			for _, c := range payloadsOf[events.ExportCompleted](e) {
				if c.Job == v.job && c.Codec != v.stored {
					t.Errorf("export.completed codec %s, want %s", c.Codec, v.stored)
				}
			}
		})
	}
	e.assertNoSnapshots()
}
