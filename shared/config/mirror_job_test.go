package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

// mirrorRemotes are added to base's: a target like nfs, one with another
// chunk size.
const mirrorRemotes = `  - name: offsite
    type: dir
    path: /mnt/o
  - name: small
    type: dir
    path: /mnt/s
    chunk_size: 64KiB
jobs:
`

// mirrorJob is a second job of base: a nightly copy of nfs's repository to offsite.
const mirrorJob = `  - name: copy
    mode: mirror
    source: nfs
    remotes: [offsite]
    schedules:
      - name: nightly
        cron: "0 4 * * *"
        retention: 14
        long_term: {monthly: 6}
`

func mirrorConfig(old, new string) string {
	return strings.Replace(base, "jobs:\n", mirrorRemotes, 1) + strings.Replace(mirrorJob, old, new, 1)
}

func TestMirrorJob(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(mirrorConfig("", "")), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("copy")
	if !ok || j.Mode != config.ModeMirror || j.Source != "nfs" || len(j.Pools) != 0 || j.Schedules[0].Retention != 14 ||
		j.Schedules[0].LongTerm.Monthly != 6 {
		t.Fatalf("mirror job = %+v", j)
	}
	var sum strings.Builder
	if err := c.WriteSummary(&sum, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mirror of nfs's repository to offsite", "keep 14 per target"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestBadMirrorJobs(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"without source", "    source: nfs\n", "", "jobs[1].source: missing (the remote whose incremental repository a mirror job copies)"},
		{"an unknown source", "source: nfs", "source: tape", `jobs[1].source: "tape": no remote has this name`},
		{"without targets", "    remotes: [offsite]\n", "", "jobs[1].remotes: missing (a mirror job copies to at least one remote)"},
		{"the source as a target", "remotes: [offsite]", "remotes: [offsite, nfs]", `jobs[1].remotes[1]: "nfs": is the mirror's source`},
		{"another chunk size", "remotes: [offsite]", "remotes: [small]", `jobs[1].remotes[0]: "small": chunk_size 64KiB differs from the source's 1MiB: a mirror copies chunks as stored (re-chunking is not supported)`},
		{"with pools", "    source: nfs\n", "    source: nfs\n    pools: [lab]\n", "jobs[1].pools: a mirror job reads no pool"},
		{"without retention", "        retention: 14\n", "", "jobs[1].schedules[0].retention: must be at least 1 for a mirror job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(mirrorConfig(tt.old, tt.new)), env("XBR_PW", pw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got:\n%v\nwant an error with:\n%s", err, tt.want)
			}
		})
	}
	// An incremental job writing to a mirror's target: the mirror's retention,
	// which counts every point of a VM on its targets, would delete its points.
	direct := mirrorConfig("", "") + `  - name: direct
    mode: incremental
    pools: [lab]
    remotes: [offsite]
    schedules: [{name: hourly, cron: "0 * * * *", retention: 24}]
`
	_, err := config.Parse("xbr.yaml", []byte(direct), env("XBR_PW", pw))
	if want := `jobs[1].remotes[0]: "offsite": incremental job direct also writes there: the mirror's retention counts every point of a VM on its targets and would delete that job's points (give one of them another remote)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a mirror target that an incremental job writes to: %v, want %s", err, want)
	}
	// Two mirrors to one target, or one mirror whose schedules keep
	// differently: one retention would delete what the other keeps.
	for _, c := range []struct{ name, doc, want string }{
		{"a shared target", mirrorConfig("", "") + strings.Replace(mirrorJob, "name: copy", "name: again", 1),
			`jobs[2].remotes[0]: "offsite": mirror job copy also copies there: each mirror's retention counts every point of a VM on its targets and would delete the other's copies`},
		{"schedules that keep differently", mirrorConfig("        long_term: {monthly: 6}\n",
			"        long_term: {monthly: 6}\n      - {name: weekly, cron: \"0 5 * * 0\", retention: 4}\n"),
			"jobs[1].schedules[1]: keeps other than schedule nightly (retention and long_term)"},
	} {
		if _, err := config.Parse("xbr.yaml", []byte(c.doc), env("XBR_PW", pw)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	_, err = config.Parse("xbr.yaml", []byte(edit(t, "remotes: [nfs]\n", "remotes: [nfs]\n    source: nfs\n")), env("XBR_PW", pw))
	if want := "jobs[0].source: only for mirror jobs"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("source on a full job: %v, want %s", err, want)
	}
}
