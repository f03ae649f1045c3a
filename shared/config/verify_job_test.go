package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

// verifyJob is a second job of base: a weekly deep verification of nfs.
const verifyJob = `  - name: check
    mode: verify
    remotes: [nfs]
    deep: true
    report_when: always
    report_webhook: ${XBR_HOOK}
    schedules:
      - name: weekly
        cron: "0 5 * * 0"
`

const hook = "https://hooks.example/services/T000/B000/XXXXSECRETXXXX"

func TestVerifyJobAndWebhook(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base+verifyJob), env("XBR_PW", pw, "XBR_HOOK", hook))
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("check")
	if !ok || j.Mode != config.ModeVerify || !j.Deep || j.ReportWhen != config.ReportAlways || len(j.Pools) != 0 {
		t.Fatalf("verify job = %+v", j)
	}
	if j.ReportWebhook.Reveal() != hook || strings.Contains(j.ReportWebhook.String(), "SECRET") {
		t.Errorf("webhook %q / %s", j.ReportWebhook.Reveal(), j.ReportWebhook)
	}
	if n, _ := c.Job("nightly"); n.Deep || n.ReportWebhook.IsSet() {
		t.Errorf("defaults of a full job: %+v", n)
	}
}

// TestSummaryReadsWell: a verify job keeps nothing, so its schedule line has
// no empty part ("UTC, , next"), and one copy is one copy, not "1 copies".
func TestSummaryReadsWell(t *testing.T) {
	text := base + verifyJob + `  - name: standby
    mode: replicate
    pools: [lab]
    target: {pool: lab, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
`
	c, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw, "XBR_HOOK", hook))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := c.WriteSummary(&out, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"verify of the backups on nfs, deep", `"0 5 * * 0" UTC, verify, next 2026-05-03 05:00 UTC`, "keep 1 copy, next"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), ", ,") || strings.Contains(out.String(), "pools ,") {
		t.Errorf("summary has an empty part:\n%s", out.String())
	}
}

func TestBadVerifyJobs(t *testing.T) {
	tests := []struct {
		name       string
		old, new   string
		want       string
		notInError string
	}{
		{"verify without remotes", "    remotes: [nfs]\n    deep", "    deep", "xbr.yaml:19: jobs[1].remotes: missing (a verify job reads the backups of at least one remote)", ""},
		{"verify with a retention", `"0 5 * * 0"`, `"0 5 * * 0"` + "\n        retention: 2", "xbr.yaml:28: jobs[1].schedules[0].retention: only for full and incremental jobs (a verify job keeps nothing on remotes)", ""},
		{"webhook not a URL", "${XBR_HOOK}", "hooks.example/T000/XXXXSECRETXXXX", "xbr.yaml:24: jobs[1].report_webhook: not an absolute http(s) URL (the value is a secret and is not shown)", "SECRET"},
		{"webhook with another scheme", "${XBR_HOOK}", "ftp://hooks.example/XXXXSECRETXXXX", "xbr.yaml:24: jobs[1].report_webhook: not an absolute http(s) URL (the value is a secret and is not shown)", "SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base + strings.Replace(verifyJob, tt.old, tt.new, 1)
			_, err := config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw, "XBR_HOOK", hook))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got:\n%v\nwant:\n%s", err, tt.want)
			}
			if tt.notInError != "" && strings.Contains(err.Error(), tt.notInError) {
				t.Errorf("the secret leaked into the error: %v", err)
			}
		})
	}
	_, err := config.Parse("xbr.yaml", []byte(edit(t, "remotes: [nfs]\n", "remotes: [nfs]\n    deep: true\n")), env("XBR_PW", pw))
	if want := "xbr.yaml:14: jobs[0].deep: only for verify jobs"; err == nil || err.Error() != want {
		t.Errorf("deep on a full job: %v, want %s", err, want)
	}
}
