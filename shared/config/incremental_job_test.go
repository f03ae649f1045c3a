package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

// incrementalJob is a second job of base (line 19 on): nightly incremental
// points on nfs, with a long-term bucket.
const incrementalJob = `  - name: incr
    mode: incremental
    pools: [lab]
    remotes: [nfs]
    schedules:
      - name: nightly
        cron: "0 1 * * *"
        retention: 7
        long_term: {weekly: 4}
`

func TestIncrementalJob(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base+incrementalJob), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("incr")
	if !ok || j.Mode != config.ModeIncremental || j.CBT != config.CBTEnable {
		t.Fatalf("incremental job = %+v", j)
	}
	if j.Compression != "" || j.XAPICompression != "" {
		t.Errorf("compression defaults on an incremental job: %q %q", j.Compression, j.XAPICompression)
	}
	if s := j.Schedules[0]; s.Retention != 7 || s.LongTerm.Weekly != 4 {
		t.Errorf("schedule %+v", s)
	}
	c, err = config.Parse("xbr.yaml", []byte(base+strings.Replace(incrementalJob, "    remotes", "    cbt: use-if-enabled\n    remotes", 1)), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := c.Job("incr"); j.CBT != config.CBTUseIfEnabled {
		t.Errorf("cbt = %q", j.CBT)
	}
	if n, _ := c.Job("nightly"); n.CBT != "" || n.Compression != config.CodecGzip {
		t.Errorf("a full job: cbt %q compression %q", n.CBT, n.Compression)
	}
}

func TestBadIncrementalJobs(t *testing.T) {
	twoRemotes := strings.Replace(base, "jobs:", "  - name: s3b\n    type: dir\n    path: /mnt/c\njobs:", 1)
	tests := []struct {
		name     string
		base     string
		old, new string
		want     string
	}{
		{"two remotes", twoRemotes, "remotes: [nfs]\n    schedules:\n      - name: nightly", "remotes: [nfs, s3b]\n    schedules:\n      - name: nightly",
			"xbr.yaml:25: jobs[1].remotes: an incremental job writes to exactly one remote (2 given): use a mirror job to copy restore points to another remote"},
		{"no remote", base, "    remotes: [nfs]\n    schedules:\n      - name: nightly", "    schedules:\n      - name: nightly",
			"xbr.yaml:19: jobs[1].remotes: missing (an incremental job writes to one remote's repository)"},
		{"compression", base, "    remotes: [nfs]\n    schedules:\n      - name: nightly", "    remotes: [nfs]\n    compression: gzip\n    schedules:\n      - name: nightly",
			`xbr.yaml:23: jobs[1].compression: "gzip": not for incremental jobs (the repository compresses every chunk with zstd)`},
		{"xapi compression", base, "    remotes: [nfs]\n    schedules:\n      - name: nightly", "    remotes: [nfs]\n    xapi_compression: zstd\n    schedules:\n      - name: nightly",
			`xbr.yaml:23: jobs[1].xapi_compression: "zstd": not for incremental jobs (the repository compresses every chunk with zstd)`},
		{"bad cbt", base, "    remotes: [nfs]\n    schedules:\n      - name: nightly", "    remotes: [nfs]\n    cbt: always\n    schedules:\n      - name: nightly",
			`xbr.yaml:23: jobs[1].cbt: "always": must be enable, use-if-enabled`},
		{"no retention", base, "        retention: 7\n", "",
			"xbr.yaml:24: jobs[1].schedules[0].retention: must be at least 1 for a incremental job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(incrementalJob, tt.old) {
				t.Fatalf("job has no %q", tt.old)
			}
			text := tt.base + strings.Replace(incrementalJob, tt.old, tt.new, 1)
			_, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
	_, err := config.Parse("xbr.yaml", []byte(edit(t, "remotes: [nfs]\n", "remotes: [nfs]\n    cbt: enable\n")), env("XBR_PW", pw))
	if want := "xbr.yaml:14: jobs[0].cbt: only for incremental jobs"; err == nil || err.Error() != want {
		t.Errorf("cbt on a full job: %v, want %s", err, want)
	}
}

func TestIncrementalJobSummary(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base+incrementalJob), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := c.WriteSummary(&out, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"incremental, pools lab, repository on nfs, cbt enable", "keep 7 restore points"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
