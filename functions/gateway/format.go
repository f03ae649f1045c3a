package gateway

import (
	"time"

	"xbr/shared/config"
)

// HumanBytes renders n bytes in binary units ("1.5 GiB"): config.ByteSize.Human.
func HumanBytes(n int64) string { return config.ByteSize(n).Human() }

func codecLabel(c string) string {
	if c == "" {
		return "unknown (Xen Orchestra)"
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// humanTime is a UTC time for people: "2024-05-01 02:00:13 UTC".
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// zonedTime shows t in its own zone, named: a schedule's fire in the
// schedule's time zone, as its cron expression speaks of it.
func zonedTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// isoTime is the machine-readable form for <time datetime>.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func duration(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(time.Millisecond).String()
}
