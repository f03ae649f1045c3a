package xapi

import (
	"fmt"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// fields decodes one record tolerantly: a missing field stays zero and
// unknown fields are ignored (a newer XAPI sends more), but a field that is
// present with the wrong type is an error naming the class, field and value.
type fields struct {
	class string
	m     map[string]any
	err   error
}

func newFields(class string, v any) *fields {
	f := &fields{class: class}
	m, ok := xmlrpc.AsMap(v)
	if !ok {
		f.err = fmt.Errorf("%s record is %s, not a struct", class, describeValue(v))
	}
	f.m = m
	return f
}

func (f *fields) bad(name, want string, v any) {
	if f.err == nil {
		f.err = fmt.Errorf("%s record field %s: %s is not %s", f.class, name, describeValue(v), want)
	}
}

func (f *fields) str(name string) string {
	v, ok := f.m[name]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.bad(name, "a string", v)
	}
	return s
}

// integer reads an API int: an untagged decimal string in XML-RPC, a number
// in JSON-RPC.
func (f *fields) integer(name string) int64 {
	v, ok := f.m[name]
	if !ok {
		return 0
	}
	n, ok := xmlrpc.AsInt(v)
	if !ok {
		f.bad(name, "an integer", v)
	}
	return n
}

func (f *fields) float(name string) float64 {
	v, ok := f.m[name]
	if !ok {
		return 0
	}
	x, ok := xmlrpc.AsFloat(v)
	if !ok {
		f.bad(name, "a number", v)
	}
	return x
}

func (f *fields) boolean(name string) bool {
	v, ok := f.m[name]
	if !ok {
		return false
	}
	b, ok := xmlrpc.AsBool(v)
	if !ok {
		f.bad(name, "a boolean", v)
	}
	return b
}

func (f *fields) time(name string) time.Time {
	v, ok := f.m[name]
	if !ok {
		return time.Time{}
	}
	t, ok := xmlrpc.AsTime(v)
	if !ok {
		f.bad(name, "a datetime", v)
	}
	return t
}

func (f *fields) strings(name string) []string {
	v, ok := f.m[name]
	if !ok {
		return nil
	}
	s, ok := xmlrpc.AsStrings(v)
	if !ok {
		f.bad(name, "a string array", v)
	}
	return s
}

func (f *fields) strMap(name string) map[string]string {
	v, ok := f.m[name]
	if !ok {
		return nil
	}
	s, ok := xmlrpc.AsStringMap(v)
	if !ok {
		f.bad(name, "a string map", v)
	}
	return s
}

// refs converts a string array field to a slice of typed refs.
func refs[R ~string](f *fields, name string) []R {
	ss := f.strings(name)
	if ss == nil {
		return nil
	}
	out := make([]R, len(ss))
	for i, s := range ss {
		out[i] = R(s)
	}
	return out
}
