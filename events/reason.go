package events

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxReasonBytes is the one limit on error text carried by an event (a
// run's reason, a failed step's error, a dead-letter reason). It is the
// contract's long-standing limit on error fields, so no event stored by an
// earlier version becomes invalid.
const MaxReasonBytes = 4096

// noMessage stands for an error whose text is empty.
const noMessage = "error with no message"

// Reason is err's text as an event carries it: see SanitizeReason. A nil
// error is ""; an error with no printable text is "error with no message".
//
// Every error text that enters an event goes through Reason (or
// SanitizeReason), so no event is ever invalid because of its reason: an
// error joined with errors.Join, for one, spans several lines.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if s := SanitizeReason(err.Error()); s != "" {
		return s
	}
	return noMessage
}

// SanitizeReason makes s one printable line of at most MaxReasonBytes:
// invalid UTF-8 is dropped, every run of control characters and white
// space (a newline, a tab) becomes one space, and a longer text is cut at
// a character boundary and ends with "…".
func SanitizeReason(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(min(len(s), MaxReasonBytes))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > MaxReasonBytes {
			break
		}
	}
	return capReason(b.String())
}

// capReason cuts s to MaxReasonBytes, "…" included.
func capReason(s string) string { return ClipReason(s, MaxReasonBytes) }

// ClipReason cuts a reason s to at most n bytes (n >= 3), at a character boundary, "…"
// included: for a reason repeated many times in one event (each VM's error in
// run.completed).
func ClipReason(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
