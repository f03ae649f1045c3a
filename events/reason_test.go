package events_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"xbr/events"
)

func TestReason(t *testing.T) {
	long := strings.Repeat("é", events.MaxReasonBytes)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("pool lab: connection refused"), "pool lab: connection refused"},
		{"joined", errors.Join(errors.New("SESSION_INVALID"), errors.New("login: refused")), "SESSION_INVALID login: refused"},
		{"control characters", errors.New(" a\r\n\tb\x00\x1b[31mc\u2028d \u00a0 "), "a b [31mc d"},
		{"invalid UTF-8", errors.New("bad \xff byte"), "bad byte"},
		{"empty", errors.New(""), "error with no message"},
		{"only control", errors.New("\n\t"), "error with no message"},
	} {
		if got := events.Reason(tc.err); got != tc.want {
			t.Errorf("%s: Reason = %q, want %q", tc.name, got, tc.want)
		}
	}
	got := events.Reason(errors.New(long))
	if len(got) > events.MaxReasonBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("long error: %d bytes, valid UTF-8 %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-6:])
	}
}

// TestReasonIsAlwaysValid: whatever an error says, a run.completed and a
// failed step carrying its Reason validate.
func TestReasonIsAlwaysValid(t *testing.T) {
	for _, msg := range []string{"a\nb", strings.Repeat("x\n", events.MaxReasonBytes), "\x7f\u0085\ufeff", "\xc3"} {
		r := events.Reason(errors.New(msg))
		done := events.RunCompleted{RunID: "r1", Job: "j", Schedule: "s", Status: events.StatusFailure, Reason: r}
		failed := events.ExportFailed{RunID: "r1", Job: "j", Schedule: "s", VMUUID: "00000000-0000-4000-8000-000000000001",
			Pool: "p", Error: r}
		if err := errors.Join(done.Validate(), failed.Validate()); err != nil {
			t.Errorf("reason %q of %q: %v", r, msg, err)
		}
	}
}

func FuzzReason(f *testing.F) {
	f.Add("a\nb\tc")
	f.Add(strings.Repeat("é", events.MaxReasonBytes))
	f.Fuzz(func(t *testing.T, s string) {
		r := events.SanitizeReason(s)
		done := events.RunCompleted{RunID: "r1", Job: "j", Schedule: "s", Status: events.StatusFailure, Reason: r}
		if err := done.Validate(); err != nil {
			t.Fatalf("SanitizeReason(%q) = %q: %v", s, r, err)
		}
		if events.SanitizeReason(r) != r {
			t.Fatalf("not idempotent on %q", r)
		}
	})
}
