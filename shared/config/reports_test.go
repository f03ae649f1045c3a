package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
)

func TestDailyReport(t *testing.T) {
	c, err := config.Parse("xbr.yaml", []byte(base), env("XBR_PW", pw))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Reports.Daily; d.Enabled() || d.Cron != config.DefaultDailyReportCron || d.When != config.ReportAlways {
		t.Errorf("no reports section: %+v, want off with the defaults", d)
	}
	text := base + "reports:\n  daily:\n    cron: \"30 7 * * 1-5\"\n    timezone: Europe/Paris\n    webhook: ${XBR_HOOK}\n    when: failure\n"
	c, err = config.Parse("xbr.yaml", []byte(text), env("XBR_PW", pw, "XBR_HOOK", "https://hooks.example/T/B/SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Reports.Daily
	if !d.Enabled() || d.When != config.ReportFailure || d.Location == nil || d.Location.String() != "Europe/Paris" {
		t.Fatalf("daily = %+v", d)
	}
	from := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) // a Friday
	if next := d.Spec.Next(from, d.Location); !next.Equal(time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)) {
		t.Errorf("next fire after Friday noon = %s, want Monday 07:30 Paris", next)
	}
	var b strings.Builder
	if err := c.WriteSummary(&b, from); err != nil || !strings.Contains(b.String(), `daily report:  "30 7 * * 1-5" Europe/Paris, sent failure, next 2026-12-07 07:30 CET`) {
		t.Errorf("the summary does not describe the daily report (%v):\n%s", err, b.String())
	}
	y, err := c.RedactedYAML()
	if err != nil || strings.Contains(string(y), "SECRET") {
		t.Errorf("the redacted configuration shows the webhook (%v):\n%s", err, y)
	}
}

func TestBadDailyReport(t *testing.T) {
	tests := []struct{ field, want string }{
		{`cron: "61 8 * * *"`, `reports.daily.cron: "61 8 * * *"`},
		{`timezone: Mars/Olympus`, `reports.daily.timezone: "Mars/Olympus": not an IANA time zone`},
		{`when: never`, `reports.daily.when: "never": must be always or failure`},
		{`hook: x`, `hook`},
	}
	for _, tt := range tests {
		_, err := config.Parse("xbr.yaml", []byte(base+"reports:\n  daily: {"+tt.field+"}\n"), env("XBR_PW", pw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.field, err, tt.want)
		}
	}
}
