package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

// metadataJob is a second job of base: the lab pool's database, kept 7 deep.
const metadataJob = `  - name: pooldb
    mode: metadata
    pools: [lab]
    remotes: [nfs]
    schedules:
      - name: nightly
        cron: "0 3 * * *"
        retention: 7
`

func metadataConfig(old, new string) string {
	return base + strings.Replace(metadataJob, old, new, 1)
}

func TestMetadataJob(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(metadataConfig("", "")), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("pooldb")
	if !ok || j.Mode != config.ModeMetadata || len(j.Pools) != 1 || j.Remotes[0] != "nfs" || j.Schedules[0].Retention != 7 {
		t.Fatalf("metadata job = %+v", j)
	}
	var sum strings.Builder
	if err := c.WriteSummary(&sum, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pool metadata of lab to nfs", "keep 7 per pool"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestBadMetadataJobs(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"without pools", "    pools: [lab]\n", "", "jobs[1].pools: missing (the pools whose VMs the job handles)"},
		{"an unknown pool", "pools: [lab]", "pools: [lab, dc2]", `jobs[1].pools[1]: "dc2"`},
		{"without remotes", "    remotes: [nfs]\n", "", "jobs[1].remotes: missing (a metadata job writes each pool's database to at least one remote)"},
		{"an unknown remote", "remotes: [nfs]", "remotes: [tape]", `jobs[1].remotes[0]: "tape"`},
		{"with VMs", "    remotes: [nfs]\n", "    remotes: [nfs]\n    vms: {tags: [prod]}\n", "jobs[1].vms: a metadata job selects no VM"},
		{"without retention", "        retention: 7\n", "", "jobs[1].schedules[0].retention: must be at least 1 for a metadata job"},
		{"with long-term retention", "        retention: 7\n", "        retention: 7\n        long_term: {monthly: 2}\n", "jobs[1].schedules[0].long_term: only for full and incremental jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(metadataConfig(tt.old, tt.new)), env("XBR_PW", pw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got:\n%v\nwant an error with:\n%s", err, tt.want)
			}
		})
	}
}

// The redacted configuration holds no secret and still names every part.
func TestRedactedYAML(t *testing.T) {
	cfg := strings.Replace(metadataConfig("", ""), "  - name: nfs\n", "  - name: s3\n    type: s3\n    endpoint: http://127.0.0.1:7070\n    bucket: backups\n    access_key: AKIA-visible-nowhere\n    secret_key: s3-secret-visible-nowhere\n  - name: nfs\n", 1)
	c, err := config.Parse("xbr.yaml", []byte(cfg), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RedactedYAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{pw, "AKIA-visible-nowhere", "s3-secret-visible-nowhere"} {
		if strings.Contains(string(out), secret) {
			t.Fatalf("redacted YAML holds a secret:\n%s", out)
		}
	}
	for _, want := range []string{"name: pooldb", "mode: metadata", "url: https://xcp.example", "password: '***'"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("redacted YAML lacks %q:\n%s", want, out)
		}
	}
}

// A schedule id is unique across jobs, as in Xen Orchestra: pool metadata
// backups are kept per schedule id and pool, so a second metadata job with
// the same schedule id would delete the first job's backups of that pool
// beyond its own retention.
func TestScheduleIDSharedByTwoJobs(t *testing.T) {
	const id = "6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f"
	one := strings.Replace(metadataJob, "      - name: nightly\n", "      - name: nightly\n        id: "+id+"\n", 1)
	two := strings.NewReplacer("name: pooldb", "name: pooldb-hourly", `"0 3 * * *"`, `"0 * * * *"`, "retention: 7", "retention: 1").Replace(one)
	_, err := config.Parse("xbr.yaml", []byte(base+one+two), env("XBR_PW", pw))
	want := `jobs[2].schedules[0].id: "` + id + `": also the id of jobs[1].schedules[0]`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got:\n%v\nwant an error with:\n%s", err, want)
	}
}
