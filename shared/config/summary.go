package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary prints a short overview of a checked configuration: NATS,
// pools, remotes, and jobs with the next fire of each schedule after now.
// Secrets are never printed.
func (c *Config) WriteSummary(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	nats := "embedded, listening on " + c.NATS.Listen
	if c.NATS.URL != "" {
		nats = c.NATS.URL
	}
	fmt.Fprintf(tw, "nats:\t%s, subject prefix %s, stream replicas %d\n", nats, c.NATS.Prefix, c.NATS.StreamReplicas)
	fmt.Fprintf(tw, "data dir:\t%s, catch-up window %s\n", c.DataDir, c.CatchUp)
	fmt.Fprintf(tw, "gateway:\t%s\n", c.Gateway.Listen)
	if d := c.Reports.Daily; d.Enabled() {
		fmt.Fprintf(tw, "daily report:\t%q %s, sent %s, next %s\n", d.Cron, d.Timezone, d.When,
			d.Spec.Next(now, d.Location).Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(tw, "pools (%d):\n", len(c.Pools))
	for _, p := range c.Pools {
		tls := ""
		switch {
		case p.TLSFingerprint != "":
			tls = ", certificate pinned"
		case p.Insecure:
			tls = ", certificate NOT verified"
		}
		stall := ""
		if p.StallTimeout != 0 && p.StallTimeout != DefaultStallTimeout {
			stall = ", stall timeout " + p.StallTimeout.String()
		}
		fmt.Fprintf(tw, "  %s\t%s as %s%s%s\n", p.Name, p.URL, p.Username, tls, stall)
	}
	fmt.Fprintf(tw, "remotes (%d):\n", len(c.Remotes))
	for _, r := range c.Remotes {
		where := r.Path
		if r.Type == RemoteS3 {
			where = strings.TrimSuffix(r.Endpoint, "/") + " bucket " + r.Bucket
			if r.Prefix != "" {
				where += " prefix " + r.Prefix
			}
		}
		fmt.Fprintf(tw, "  %s\t%s %s\n", r.Name, r.Type, where)
	}
	fmt.Fprintf(tw, "jobs (%d):\n", len(c.Jobs))
	for _, j := range c.Jobs {
		fmt.Fprintf(tw, "  %s\t%s\n", j.Name, describeJob(j))
		for _, s := range j.Schedules {
			fmt.Fprintf(tw, "    %s\t%s\n", s.Name, describeSchedule(s, j.Mode, now))
		}
	}
	return tw.Flush()
}

func describeJob(j Job) string {
	parts := []string{j.Mode, "pools " + strings.Join(j.Pools, ",")}
	switch j.Mode {
	case ModeGC:
		return "gc of the repositories on " + strings.Join(j.Remotes, ",")
	case ModeMirror:
		return fmt.Sprintf("mirror of %s's repository to %s, concurrency %d", j.Source, strings.Join(j.Remotes, ","), j.Concurrency)
	case ModeVerify:
		deep := ""
		if j.Deep {
			deep = ", deep"
		}
		return "verify of the backups on " + strings.Join(j.Remotes, ",") + deep
	case ModeMetadata:
		return "pool metadata of " + strings.Join(j.Pools, ",") + " to " + strings.Join(j.Remotes, ",")
	case ModeFull:
		parts = append(parts, "remotes "+strings.Join(j.Remotes, ","), "compression "+codecOf(j))
	case ModeReplicate:
		parts = append(parts, "to "+j.Target.Pool+" sr "+j.Target.SR)
	case ModeIncremental:
		parts = append(parts, "repository on "+strings.Join(j.Remotes, ","), "cbt "+j.CBT)
	}
	if hc := j.HealthCheck; hc != nil && !hc.Skip {
		parts = append(parts, describeHealth(hc))
	}
	return strings.Join(append(parts, fmt.Sprintf("concurrency %d", j.Concurrency)), ", ")
}

// describeHealth is a job's health check in words.
func describeHealth(hc *HealthCheck) string {
	s := "health check on sr " + hc.SR
	if len(hc.Tags) > 0 {
		s += " for tags " + strings.Join(hc.Tags, ",")
	}
	timeout := hc.Timeout
	if timeout == 0 {
		timeout = DefaultHealthTimeout
	}
	return s + " within " + timeout.String()
}

func codecOf(j Job) string {
	if j.XAPICompression != CodecNone {
		return j.XAPICompression + " by XAPI"
	}
	return j.Compression
}

func describeSchedule(s Schedule, mode string, now time.Time) string {
	keep := map[string]string{
		ModeFull:        fmt.Sprintf("keep %d", s.Retention),
		ModeIncremental: "keep " + count(s.Retention, "restore point", "restore points"),
		ModeSnapshot:    "keep " + count(s.SnapshotRetention, "snapshot", "snapshots"),
		ModeReplicate:   "keep " + count(s.CopyRetention, "copy", "copies"),
		ModeMirror:      fmt.Sprintf("keep %d per target", s.Retention),
		ModeMetadata:    fmt.Sprintf("keep %d per pool", s.Retention),
		ModeGC:          "collect",
		ModeVerify:      "verify",
	}[mode]
	next := "disabled"
	if s.Enabled {
		next = "next " + s.Spec.Next(now, s.Location).Format("2006-01-02 15:04 MST")
	}
	parts := []string{fmt.Sprintf("%q %s", s.Cron, s.Timezone)}
	if keep != "" {
		parts = append(parts, keep)
	}
	return strings.Join(append(parts, next), ", ")
}

// count is "1 copy", "2 copies".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
