package config

import (
	"time"

	"xbr/shared/schedule"
)

// Reports configures the reports that are not tied to one run.
type Reports struct {
	// Daily is the protection report: every late, failing, unprotected and
	// missing VM, posted on its own schedule. Off unless its webhook is set.
	Daily DailyReport `yaml:"daily"`
}

// DefaultDailyReportCron is when the daily report goes out by default: at
// 08:00 in its time zone.
const DefaultDailyReportCron = "0 8 * * *"

// DailyReport is the protection report's schedule and destination.
type DailyReport struct {
	// Cron (5 fields) and Timezone say when [DefaultDailyReportCron, UTC].
	Cron     string `yaml:"cron"`
	Timezone string `yaml:"timezone"`
	// Webhook is a Slack-compatible incoming webhook URL; unset, no daily
	// report is sent. A secret: the URL is the key.
	Webhook Secret `yaml:"webhook"`
	// When: always (the default: a morning report that all is well is
	// also news) or failure (only when a VM needs attention).
	When string `yaml:"when"`

	// Spec and Location are Cron and Timezone, parsed.
	Spec     schedule.Cron  `yaml:"-"`
	Location *time.Location `yaml:"-"`
}

// Enabled reports whether the daily report is sent.
func (d DailyReport) Enabled() bool { return d.Webhook.IsSet() }

// Schedule is the daily report's schedule.
func (d DailyReport) Schedule() schedule.Schedule {
	return schedule.Schedule{Cron: d.Spec, Location: d.Location, Enabled: true}
}

func (d *DailyReport) applyDefaults() {
	d.Cron = or(d.Cron, DefaultDailyReportCron)
	d.Timezone = or(d.Timezone, DefaultTimezone)
	d.When = or(d.When, ReportAlways)
}

func (d *DailyReport) check(p *problems) {
	const path = "reports.daily"
	if spec, err := schedule.Parse(d.Cron); err != nil {
		p.addValue(path+".cron", d.Cron, "%v", err)
	} else {
		d.Spec = spec
	}
	if loc, err := time.LoadLocation(d.Timezone); err != nil || d.Timezone == "Local" {
		p.addValue(path+".timezone", d.Timezone, "not an IANA time zone (e.g. Europe/Paris, UTC)")
	} else {
		d.Location = loc
	}
	if d.When != ReportAlways && d.When != ReportFailure {
		p.addValue(path+".when", d.When, "must be %s or %s", ReportAlways, ReportFailure)
	}
}
