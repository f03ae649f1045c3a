package xmlrpc

import "unicode/utf8"

// ExcerptBytes is the one limit on outside text (a value, a response body)
// quoted in an error of the XAPI client: enough to recognise it, never a
// whole response in a log line.
const ExcerptBytes = 200

// Excerpt is s cut to at most ExcerptBytes at a character boundary, ending
// with "…" when cut. Every error of the XAPI client that quotes outside text
// goes through it.
func Excerpt(s string) string {
	if len(s) <= ExcerptBytes {
		return s
	}
	cut := ExcerptBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
