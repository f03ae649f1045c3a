// Package redact hides the credentials a URL may carry before the URL
// reaches a log line, an event or an error.
package redact

import "strings"

// Marker replaces a login.
const Marker = "REDACTED"

// URL hides the login ("user:password@", a token@) of raw, also when raw
// does not parse or has no scheme (NATS reads "u:p@host:4222" as
// nats://u:p@host:4222): everything between the scheme's "://" (or the
// start) and the last '@'. The last '@', not the first '/' after the
// scheme, ends the login, since a password may hold '/', '#' or '?';
// hiding an '@' in a path is the safe side.
func URL(raw string) string {
	scheme, rest := "", strings.TrimSpace(raw)
	if i := strings.Index(rest, "://"); i >= 0 {
		scheme, rest = rest[:i+3], rest[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	return scheme + Marker + rest[at:]
}

// URLs is URL for each URL of a comma-separated list (a NATS cluster's).
func URLs(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		parts[i] = URL(p)
	}
	return strings.Join(parts, ",")
}
