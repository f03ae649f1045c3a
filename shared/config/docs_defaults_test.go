package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
)

// TestDocumentedStreamAges checks that every document quoting a stream's
// age says what the code does: an auditor reading "365 days" in the docs
// while the server keeps 90 loses events.
func TestDocumentedStreamAges(t *testing.T) {
	if config.DefaultEventsMaxAge != events.DefaultEventsMaxAge {
		t.Fatalf("config default %s, events default %s: two sources of truth",
			config.DefaultEventsMaxAge, events.DefaultEventsMaxAge)
	}
	ages := map[string]time.Duration{
		events.DefaultEventsStream:   events.DefaultEventsMaxAge,
		events.DefaultProgressStream: events.DefaultProgressMaxAge,
		events.DefaultDLQStream:      events.DefaultDLQMaxAge,
	}
	// "`XBR_EVENTS` ... 90 days", within one line (a table row, a sentence).
	mention := regexp.MustCompile("`(XBR_[A-Z]+)`[^\\n]*?(\\d+) days")
	docs := map[string]int{ // file → how many mentions it must have at least
		"../../events/README.md": 3,
		"../../docs/audit.md":    2,
		"../../README.md":        0, // mentions none today; checked if it does
	}
	for file, want := range docs {
		text, err := os.ReadFile(filepath.Clean(file))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, m := range mention.FindAllStringSubmatch(string(text), -1) {
			age, ok := ages[m[1]]
			if !ok {
				continue
			}
			found++
			days, _ := strconv.Atoi(m[2])
			if got := time.Duration(days) * 24 * time.Hour; got != age {
				t.Errorf("%s: %q says %s keeps %d days; the code keeps %s", file, m[0], m[1], days, age)
			}
		}
		if found < want {
			t.Errorf("%s: found %d stream ages, want at least %d (did the wording change?)", file, found, want)
		}
	}
}

// TestDocumentedEventsMaxAgeInExample checks the example configuration's
// comment on the default history age.
func TestDocumentedEventsMaxAgeInExample(t *testing.T) {
	text, err := os.ReadFile("../../deploy/xbr.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`events_max_age:.*default (\d+)h = (\d+) days`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatal("deploy/xbr.example.yaml: no \"default <n>h = <d> days\" comment on events_max_age")
	}
	hours, _ := strconv.Atoi(m[1])
	days, _ := strconv.Atoi(m[2])
	want := config.DefaultEventsMaxAge
	if time.Duration(hours)*time.Hour != want || time.Duration(days)*24*time.Hour != want {
		t.Errorf("deploy/xbr.example.yaml says %sh = %s days; the default is %s", m[1], m[2], want)
	}
}

// TestDocumentedStallTimeoutInExample checks the example configuration's
// comment on a pool's default stall timeout.
func TestDocumentedStallTimeoutInExample(t *testing.T) {
	text, err := os.ReadFile("../../deploy/xbr.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`stall_timeout:.*\(default (\w+)\)`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatal("deploy/xbr.example.yaml: no \"(default <duration>)\" comment on stall_timeout")
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d != config.DefaultStallTimeout {
		t.Errorf("deploy/xbr.example.yaml says the default stall_timeout is %s; it is %s", m[1], config.DefaultStallTimeout)
	}
}
