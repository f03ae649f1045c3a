package xmlrpc

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// DateLayout is XAPI's datetime format on the wire (no dashes, "Z" for UTC).
const DateLayout = "20060102T15:04:05Z"

// I4 is a 32-bit integer written with an explicit <i4> tag.
type I4 int32

// Member is one named field of an ordered Struct.
type Member struct {
	Name  string
	Value any
}

// Struct is an XML-RPC struct whose members keep their order on the wire.
type Struct []Member

// Get returns the value of the member called name.
func (s Struct) Get(name string) (any, bool) {
	for _, m := range s {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// ErrSyntax marks malformed input.
var ErrSyntax = errors.New("xmlrpc: malformed input")

// FormatTime renders t in XAPI's datetime format, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(DateLayout) }

// ParseTime parses XAPI's datetime forms: with or without the trailing Z (no
// zone means UTC here), and the dashed ISO 8601 variant some clients send.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{DateLayout, "20060102T15:04:05", "2006-01-02T15:04:05Z07:00", "20060102T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			if y := t.UTC().Year(); y < 0 || y > 9999 {
				return time.Time{}, fmt.Errorf("%w: dateTime.iso8601 %q is out of range in UTC (years 0000-9999)", ErrSyntax, s)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: dateTime.iso8601 %q is not a datetime", ErrSyntax, s)
}

// formatFloat renders f as OCaml's "%.16g" does.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 16, 64) }

// sortedKeys returns the keys of m in a stable order so output is deterministic.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// AsString returns v as a string; XAPI's untagged ints also arrive as strings.
func AsString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// AsInt converts the wire forms of an API int (untagged decimal string,
// int64, I4, whole float from JSON) to int64.
func AsInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case I4:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// AsFloat converts a float on the wire (float64, int, or decimal string).
func AsFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case I4:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// AsBool converts a bool on the wire (XML-RPC clients of old hosts may send "1"/"true").
// A number is a bool only as 0 or 1, as its untagged XML-RPC string is.
func AsBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(x)
		return b, err == nil
	case int64:
		return x == 1, x == 0 || x == 1
	}
	return false, false
}

// AsTime converts a datetime on the wire (time.Time, or its string form in JSON).
func AsTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := ParseTime(x)
		return t, err == nil
	}
	return time.Time{}, false
}

// AsMap returns a struct value as a map (an ordered Struct is converted).
func AsMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case Struct:
		m := make(map[string]any, len(x))
		for _, mem := range x {
			m[mem.Name] = mem.Value
		}
		return m, true
	}
	return nil, false
}

// AsStrings returns an array of strings.
func AsStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// AsStringMap returns a (string -> string) map such as other_config.
func AsStringMap(v any) (map[string]string, bool) {
	m, ok := AsMap(v)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out[k] = s
	}
	return out, true
}
