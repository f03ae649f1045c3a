package events

import (
	"fmt"
	"strings"
	"unicode"
)

// DefaultPrefix is the subject prefix when none is configured.
const DefaultPrefix = "xbr"

// Subjects builds NATS subjects under a prefix:
// <prefix>.<domain>.<verb>.<key…>, e.g. xbr.export.completed.<job>.<vm-uuid>.
// The zero value uses DefaultPrefix.
type Subjects struct {
	prefix string
}

// NewSubjects returns the subject builder for prefix ("" = DefaultPrefix).
// The prefix may have several tokens ("acme.backup"); each must be a valid
// token.
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		return Subjects{}, nil
	}
	for _, tok := range strings.Split(prefix, ".") {
		if err := ValidToken(tok); err != nil {
			return Subjects{}, fmt.Errorf("subject prefix %q: %w", prefix, err)
		}
	}
	return Subjects{prefix: prefix}, nil
}

// Prefix is the configured prefix.
func (s Subjects) Prefix() string {
	if s.prefix == "" {
		return DefaultPrefix
	}
	return s.prefix
}

// Of is the subject an event with payload p is published on.
func (s Subjects) Of(p Payload) string { return s.For(p.EventType(), p.SubjectKeys()...) }

// For is <prefix>.<domain>.<verb>.<keys…>; each key is sanitised with Token.
// With no keys a single "_" token is used so Filter(t) still matches.
func (s Subjects) For(t Type, keys ...string) string {
	var b strings.Builder
	b.WriteString(s.Prefix() + "." + t.Domain() + "." + t.Verb())
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, k := range keys {
		b.WriteString("." + Token(k))
	}
	return b.String()
}

// Carries reports whether subject is one of type t's under s's prefix
// (<prefix>.<domain>.<verb>.…). NATS grants publishing by subject, so an
// event is trusted to be of its type only on such a subject.
func (s Subjects) Carries(subject string, t Type) bool {
	return strings.HasPrefix(subject, strings.TrimSuffix(s.Filter(t), ">"))
}

// Filter matches every subject of type t: <prefix>.<domain>.<verb>.>
func (s Subjects) Filter(t Type) string {
	return s.Prefix() + "." + t.Domain() + "." + t.Verb() + ".>"
}

// FilterKeys matches the subjects of type t whose first keys are keys:
// <prefix>.<domain>.<verb>.<key…>.> (FilterKeys(TypeScheduleDue, "full")
// is every fire of a full job).
func (s Subjects) FilterKeys(t Type, keys ...string) string {
	if len(keys) == 0 {
		return s.Filter(t)
	}
	return s.For(t, keys...) + ".>"
}

// DLQ is the subject a function's terminated events are copied to.
func (s Subjects) DLQ(function string) string { return s.Prefix() + ".dlq." + Token(function) }

// DLQFilter matches the DLQ subjects of every function.
func (s Subjects) DLQFilter() string { return s.Prefix() + ".dlq.>" }

// LifecycleFilters are the subjects of the lifecycle stream (XBR_EVENTS):
// every type except progress events.
func (s Subjects) LifecycleFilters() []string {
	var out []string
	for _, t := range Types() {
		if !t.IsProgress() {
			out = append(out, s.Filter(t))
		}
	}
	return out
}

// ProgressFilters are the subjects of the short-lived progress stream.
func (s Subjects) ProgressFilters() []string {
	var out []string
	for _, t := range Types() {
		if t.IsProgress() {
			out = append(out, s.Filter(t))
		}
	}
	return out
}

// Token turns any string into one subject token: characters NATS gives a
// meaning to ('.', '*', '>'), white space and control characters become
// '_'; an empty string becomes "_". Different strings can map to the same
// token: subjects route, the payload is the truth.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if badTokenRune(r) {
			return '_'
		}
		return r
	}, s)
}

// ValidToken reports why s cannot be used as one subject token.
func ValidToken(s string) error {
	if s == "" {
		return fmt.Errorf("subject token is empty")
	}
	if i := strings.IndexFunc(s, badTokenRune); i >= 0 {
		return fmt.Errorf("subject token %q: character %q is not allowed", s, s[i:i+1])
	}
	return nil
}

func badTokenRune(r rune) bool {
	return r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) || !unicode.IsPrint(r)
}
