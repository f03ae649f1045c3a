package events

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// FieldError is a payload field that failed validation. Its message names
// the event type, the field and the bad value:
//
//	export.requested: vm_uuid: "zz" is not a UUID
type FieldError struct {
	Type    Type
	Field   string
	Value   string // the bad value, quoted; empty when the field is missing
	Problem string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s: %s", e.Type.Short(), e.Field, e.Problem)
	}
	return fmt.Sprintf("%s: %s: %s %s", e.Type.Short(), e.Field, e.Value, e.Problem)
}

// Codecs a backup stream may be compressed with.
const (
	CodecGzip = "gzip"
	CodecZstd = "zstd"
	CodecNone = "none"
)

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	xoTimeRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z$`)
)

// checker collects the field errors of one payload.
type checker struct {
	t    Type
	errs []error
}

func (c *checker) fail(field, value, problem string) {
	c.errs = append(c.errs, &FieldError{Type: c.t, Field: field, Value: value, Problem: problem})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// name: a required, printable, single-line string of at most 256 bytes.
func (c *checker) name(field, v string) {
	switch {
	case v == "":
		c.fail(field, "", "is required")
	default:
		c.text(field, v)
	}
}

// text: optional printable single-line text.
func (c *checker) text(field, v string) {
	if len(v) > 256 {
		c.fail(field, fmt.Sprintf("%.40q…", v), "is longer than 256 bytes")
		return
	}
	c.printable(field, v)
}

func (c *checker) uuid(field, v string) {
	if v == "" {
		c.fail(field, "", "is required")
	} else if !uuidRE.MatchString(v) {
		c.fail(field, fmt.Sprintf("%q", v), "is not a UUID")
	}
}

func (c *checker) optUUID(field, v string) {
	if v != "" {
		c.uuid(field, v)
	}
}

// id: run ids, request ids, event ids: 1-128 bytes of [A-Za-z0-9_-].
func (c *checker) id(field, v string) {
	if v == "" {
		c.fail(field, "", "is required")
		return
	}
	if len(v) > 128 || strings.IndexFunc(v, func(r rune) bool { return !isIDRune(r) }) >= 0 {
		c.fail(field, fmt.Sprintf("%q", v), "is not an id (1-128 of A-Z a-z 0-9 _ -)")
	}
}

func isIDRune(r rune) bool {
	return r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// mode: a job's mode, one subject token of 1-32 of a-z 0-9 -.
func (c *checker) mode(field, v string) {
	bad := func(r rune) bool { return r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') }
	if v == "" || len(v) > 32 || strings.IndexFunc(v, bad) >= 0 {
		c.fail(field, fmt.Sprintf("%q", v), "is not a mode (1-32 of a-z 0-9 -)")
	}
}

func (c *checker) time(field string, v time.Time) {
	if v.IsZero() {
		c.fail(field, "", "is required")
	}
}

func (c *checker) nonNegative(field string, v int64) {
	if v < 0 {
		c.fail(field, fmt.Sprint(v), "is negative")
	}
}

func (c *checker) nonNegativeF(field string, v float64) {
	if v < 0 || v != v {
		c.fail(field, fmt.Sprint(v), "is not a non-negative number")
	}
}

func (c *checker) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(field, fmt.Sprintf("%q", v), "is not one of "+strings.Join(allowed, ", "))
}

func (c *checker) sha256(field, v string) {
	if !sha256RE.MatchString(v) {
		c.fail(field, fmt.Sprintf("%q", v), "is not a lower-case hex SHA-256")
	}
}

func (c *checker) xoTime(field, v string) {
	if !xoTimeRE.MatchString(v) {
		c.fail(field, fmt.Sprintf("%q", v), "is not a YYYYMMDDTHHMMSSZ timestamp")
	}
}

// backupID: a remote-relative id; never absolute, never "..", no odd bytes.
// shared/remote validates it fully; this rejects what can never be valid.
func (c *checker) backupID(field, v string) {
	if v == "" {
		c.fail(field, "", "is required")
		return
	}
	bad := len(v) > 512 || strings.HasPrefix(v, "/") || strings.Contains(v, "\\")
	for _, seg := range strings.Split(v, "/") {
		bad = bad || seg == ".." || seg == "."
	}
	for _, r := range v {
		bad = bad || !unicode.IsPrint(r) || r == ' '
	}
	if bad {
		c.fail(field, fmt.Sprintf("%q", v), "is not a backup id")
	}
}

func (c *checker) names(field string, v []string, required bool) {
	if required && len(v) == 0 {
		c.fail(field, "", "needs at least one entry")
	}
	for i, s := range v {
		c.name(fmt.Sprintf("%s[%d]", field, i), s)
	}
}

// errorText: a failed step's required error. It may span lines: events
// stored by earlier versions carry multi-line errors, and Reason makes new
// ones a single line.
func (c *checker) errorText(field, v string) {
	if strings.TrimSpace(v) == "" {
		c.fail(field, "", "is required")
	} else if len(v) > MaxReasonBytes {
		c.fail(field, fmt.Sprintf("%.40q…", v), fmt.Sprintf("is longer than %d bytes", MaxReasonBytes))
	}
}

// reason: optional printable single-line text of at most MaxReasonBytes,
// as Reason makes it.
func (c *checker) reason(field, v string) {
	if len(v) > MaxReasonBytes {
		c.fail(field, fmt.Sprintf("%.40q…", v), fmt.Sprintf("is longer than %d bytes", MaxReasonBytes))
		return
	}
	c.printable(field, v)
}

func (c *checker) printable(field, v string) {
	for _, r := range v {
		if !unicode.IsPrint(r) {
			c.fail(field, fmt.Sprintf("%q", v), "contains a control character")
			return
		}
	}
}

// field names an element's field: field("vms", 2, "vm_uuid") = "vms[2].vm_uuid".
func field(list string, i int, name string) string {
	return fmt.Sprintf("%s[%d].%s", list, i, name)
}

func (c *checker) runJobSchedule(run, job, schedule string) {
	c.id("run_id", run)
	c.name("job", job)
	c.name("schedule", schedule)
}

func (c *checker) vm(uuid, name, pool string) {
	c.uuid("vm_uuid", uuid)
	c.text("vm_name", name)
	c.name("pool", pool)
}
