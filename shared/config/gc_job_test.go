package config_test

import (
	"slices"
	"strings"
	"testing"

	"xbr/shared/config"
)

// gcJob is a second job of base: a weekly garbage collection of nfs.
const gcJob = `  - name: collect
    mode: gc
    remotes: [nfs]
    schedules:
      - name: weekly
        cron: "0 6 * * 0"
`

func TestGCJob(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base+gcJob), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("collect")
	if !ok || j.Mode != config.ModeGC || len(j.Pools) != 0 || !slices.Equal(j.Remotes, []string{"nfs"}) {
		t.Fatalf("gc job = %+v", j)
	}
}

func TestBadGCJobs(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"without remotes", "    remotes: [nfs]\n", "", "jobs[1].remotes: missing (a gc job collects the garbage of the incremental repositories of at least one remote)"},
		{"an unknown remote", "remotes: [nfs]", "remotes: [offsite]", `jobs[1].remotes[0]: "offsite": no remote has this name`},
		{"with pools", "    remotes: [nfs]\n", "    remotes: [nfs]\n    pools: [lab]\n", "jobs[1].pools: a gc job reads no pool"},
		{"with vms", "    remotes: [nfs]\n", "    remotes: [nfs]\n    vms: {tags: [prod]}\n", "jobs[1].vms: a gc job selects no VM"},
		{"with a retention", `"0 6 * * 0"`, `"0 6 * * 0"` + "\n        retention: 2", "jobs[1].schedules[0].retention: only for full and incremental jobs (a gc job keeps nothing on remotes)"},
		{"with long-term buckets", `"0 6 * * 0"`, `"0 6 * * 0"` + "\n        long_term: {daily: 2}", "jobs[1].schedules[0].long_term: only for full and incremental jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base + strings.Replace(gcJob, tt.old, tt.new, 1)
			_, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got:\n%v\nwant an error with:\n%s", err, tt.want)
			}
		})
	}
}
