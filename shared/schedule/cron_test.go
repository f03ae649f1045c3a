package schedule_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/schedule"
)

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"61 2 * * *", "minute 61 is out of range 0-59"},
		{"0 24 * * *", "hour 24 is out of range 0-23"},
		{"0 0 0 * *", "day-of-month 0 is out of range 1-31"},
		{"0 0 * 13 *", "month 13 is out of range 1-12"},
		{"0 0 * * 8", "day-of-week 8 is out of range 0-7"},
		{"0 0 * * *  *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
		{"0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
		{"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
		{"x 0 * * *", `minute "x" is not a number`},
		{"0 0 * FOO *", `month "FOO" is not a number or a name (JAN-DEC)`},
		{"0 0 * * FUNDAY", `day-of-week "FUNDAY" is not a number or a name (SUN-SAT)`},
		{"*/0 * * * *", `minute step "0" is not a number in 1-60`},
		{"*/x * * * *", `minute step "x" is not a number in 1-60`},
		{"0 5-3 * * *", "hour range 5-3 starts after it ends"},
		{"0 1,,2 * * *", `hour "" is not a number`},
		{"0 0 31 FEB *", "day-of-month 31 never occurs in month FEB"},
		{"0 0 30-31 2 *", "day-of-month 30-31 never occurs in month 2"},
		{"@reboot", `unknown shortcut "@reboot" (want @yearly, @monthly, @weekly, @daily or @hourly)`},
		{"0 0 ? * *", `day-of-month "?" is not a number`},
	}
	for _, tt := range tests {
		_, err := schedule.Parse(tt.expr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, want %q", tt.expr, err, tt.want)
		}
	}
}

func TestNextInUTC(t *testing.T) {
	tests := []struct{ expr, after, want string }{
		{"0 2 * * *", "2026-05-01T01:59:59Z", "2026-05-01T02:00:00Z"},
		{"0 2 * * *", "2026-05-01T02:00:00Z", "2026-05-02T02:00:00Z"},
		{"*/20 * * * *", "2026-05-01T10:41:00Z", "2026-05-01T11:00:00Z"},
		{"10-50/20 * * * *", "2026-05-01T10:31:00Z", "2026-05-01T10:50:00Z"},
		{"5/20 * * * *", "2026-05-01T10:26:00Z", "2026-05-01T10:45:00Z"},
		{"0 0 * * 7", "2026-05-01T00:00:00Z", "2026-05-03T00:00:00Z"}, // 7 is Sunday
		{"0 0 * * sun", "2026-05-01T00:00:00Z", "2026-05-03T00:00:00Z"},
		{"0 0 * * MON-FRI", "2026-05-01T12:00:00Z", "2026-05-04T00:00:00Z"},
		{"0 0 1 jan,JUL *", "2026-05-01T12:00:00Z", "2026-07-01T00:00:00Z"},
		// Both restricted: the 13th OR a Friday (May 1 2026 is a Friday).
		{"0 0 13 * 5", "2026-04-30T12:00:00Z", "2026-05-01T00:00:00Z"},
		{"0 0 13 * 5", "2026-05-08T12:00:00Z", "2026-05-13T00:00:00Z"},
		// Day-of-week starts with "*": both must match (a 1st on SUN, TUE, THU or SAT;
		// Jan 1 2026 is a Thursday, Feb 1 a Sunday).
		{"0 0 1 * */2", "2026-01-01T12:00:00Z", "2026-02-01T00:00:00Z"},
		{"0 0 1 * */2", "2026-03-01T12:00:00Z", "2026-08-01T00:00:00Z"}, // Apr 1 WED, May 1 FRI, Jun 1 MON, Jul 1 WED
		{"0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"@hourly", "2026-05-01T10:00:00Z", "2026-05-01T11:00:00Z"},
		{"@weekly", "2026-05-01T10:00:00Z", "2026-05-03T00:00:00Z"},
		{"@yearly", "2026-05-01T10:00:00Z", "2027-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		c, err := schedule.Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		got := c.Next(mustTime(t, tt.after), nil)
		if got.Format(time.RFC3339) != tt.want {
			t.Errorf("%q after %s: got %s, want %s", tt.expr, tt.after, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestCronAccessors(t *testing.T) {
	c := schedule.MustParse("  0   2 * *  *")
	if c.String() != "0 2 * * *" || c.IsZero() || c.Interval() {
		t.Errorf("got %q zero=%v interval=%v", c.String(), c.IsZero(), c.Interval())
	}
	if !schedule.MustParse("*/15 1-3 * * *").Interval() || !schedule.MustParse("0 */2 * * *").Interval() {
		t.Error("interval expressions not recognised")
	}
	var zero schedule.Cron
	if !zero.IsZero() || !zero.Next(time.Now(), nil).IsZero() {
		t.Error("the zero Cron must never fire")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "minute 99") {
			t.Errorf("MustParse did not panic with the reason: %v", r)
		}
	}()
	schedule.MustParse("99 * * * *")
}
