package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

func TestHealthCheck(t *testing.T) {
	text := edit(t, "    remotes: [nfs]\n", "    remotes: [nfs]\n    health_check: {sr: Local storage, tags: [boot-test]}\n",
		"        retention: 3\n", "        retention: 3\n      - name: weekly\n        cron: \"0 3 * * 0\"\n        timezone: UTC\n"+
			"        retention: 2\n        health_check: {sr: fast, timeout: 2m}\n      - name: hourly\n        cron: \"0 * * * *\"\n"+
			"        timezone: UTC\n        retention: 2\n        health_check: {skip: true}\n")
	c, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := c.Job("nightly")
	daily := j.HealthCheckFor("daily")
	if daily == nil || daily.SR != "Local storage" || daily.Timeout != config.DefaultHealthTimeout || len(daily.Tags) != 1 {
		t.Errorf("daily = %+v, want the job's with the default timeout", daily)
	}
	if w := j.HealthCheckFor("weekly"); w == nil || w.SR != "fast" || w.Timeout != 2*time.Minute || len(w.Tags) != 0 {
		t.Errorf("weekly = %+v, want the schedule's own", w)
	}
	if h := j.HealthCheckFor("hourly"); h != nil {
		t.Errorf("hourly = %+v, want none (skip)", h)
	}
	if j.HealthCheck.Timeout != 0 {
		t.Errorf("HealthCheckFor changed the job's configuration: %+v", j.HealthCheck)
	}
	var b strings.Builder
	if err := c.WriteSummary(&b, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "health check on sr Local storage for tags boot-test within 10m0s") {
		t.Errorf("the summary does not describe the health check:\n%s", b.String())
	}
}

func TestBadHealthCheck(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"without sr", "    remotes: [nfs]\n", "    remotes: [nfs]\n    health_check: {timeout: 5m}\n",
			"xbr.yaml:14: jobs[0].health_check.sr: missing (the SR, by UUID or name, the test VM's disks go to)"},
		{"negative timeout", "    remotes: [nfs]\n", "    remotes: [nfs]\n    health_check: {sr: x, timeout: -1m}\n",
			`jobs[0].health_check.timeout: "-1m0s": must not be negative`},
		{"empty tag", "    remotes: [nfs]\n", "    remotes: [nfs]\n    health_check: {sr: x, tags: [\"\"]}\n",
			"jobs[0].health_check.tags[0]: empty tag"},
		{"snapshot job", "    remotes: [nfs]\n", "    mode: snapshot\n    health_check: {sr: x}\n",
			"jobs[0].health_check: only for full, incremental, replicate jobs (a snapshot job makes nothing to boot)"},
		{"schedule without sr", "        retention: 3\n", "        retention: 3\n        health_check: {tags: [a]}\n",
			"jobs[0].schedules[0].health_check.sr: missing"},
		{"unknown field", "    remotes: [nfs]\n", "    remotes: [nfs]\n    health_check: {sr: x, timout: 5m}\n",
			"timout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(edit(t, tt.old, tt.new)), env("XBR_PW", pw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got:\n%v\nwant an error with:\n%s", err, tt.want)
			}
		})
	}
}
