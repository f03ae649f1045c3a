package xmlrpc_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// FuzzDecodeCall checks that no input crashes the decoder and that whatever
// decodes re-encodes and decodes to the same method.
func FuzzDecodeCall(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>session.login_with_password</methodName><params><param><value>root</value></param><param><value>secret</value></param></params></methodCall>`))
	f.Add([]byte(`<methodCall><methodName>event.from</methodName><params><param><value><array><data><value>VM</value></data></array></value></param><param><value><double>60.1</double></value></param></params></methodCall>`))
	f.Add([]byte(`<methodCall><methodName>x</methodName><params><param><value><struct><member><name>a</name><value><i4>1</i4></value></member></struct></value></param></params></methodCall>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, params, err := xmlrpc.DecodeCall(data)
		if err != nil {
			return
		}
		enc, err := xmlrpc.EncodeCall(m, params)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, _, err := xmlrpc.DecodeCall(enc)
		if err != nil {
			t.Fatalf("decode of re-encoded call: %v\n%s", err, enc)
		}
		if m2 != m && m2 != stripped(m) {
			t.Fatalf("method %q became %q", m, m2)
		}
	})
}

func stripped(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 || c == '\t' || c == '\n' || c == '\r' {
			out = append(out, c)
		}
	}
	return string(out)
}

// FuzzUnmarshal covers the single-value form used by ova.xml and responses.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`<value><struct><member><name>version</name><value><struct><member><name>export_vsn</name><value>2</value></member></struct></value></member></struct></value>`))
	f.Add([]byte(`<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value>`))
	f.Add([]byte(`<value><array><data><value><boolean>1</boolean></value><value><nil/></value></data></array></value>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xmlrpc.Unmarshal(data)
		if err != nil {
			return
		}
		if _, err := xmlrpc.Marshal(v); err != nil {
			t.Fatalf("re-encode of decoded value: %v", err)
		}
		_, _ = xmlrpc.DecodeResponse(data)
	})
}

// FuzzDecodeJSON covers XAPI's JSON-RPC replies: DecodeJSON accepts exactly
// the documents encoding/json decodes into an any (valid, one document,
// numbers a float64 holds), and what it accepts encodes back
// with AppendJSON to a document that decodes to the same encoding.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","result":{"uuid":"u","power_state":"Running","VCPUs_max":4,"memory":"1073741824"},"id":1}`))
	f.Add([]byte(`[1.5,-0,9007199254740993,"20240102T03:04:05Z",true,null,[],{}]`))
	f.Add([]byte(`{} ]`))
	f.Add([]byte(`1e400`))
	f.Add([]byte(`{"a":1} {"b":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xmlrpc.DecodeJSON(data)
		var ref any
		if refErr := json.Unmarshal(data, &ref); (err == nil) != (refErr == nil) {
			t.Fatalf("DecodeJSON(%q): err %v, but encoding/json says %v", data, err, refErr)
		}
		if err != nil {
			if !errors.Is(err, xmlrpc.ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
			return
		}
		enc, err := xmlrpc.AppendJSON(nil, v)
		if err != nil {
			t.Fatalf("decoded %q does not encode: %v", data, err)
		}
		v2, err := xmlrpc.DecodeJSON(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if !sameValue(v, v2) {
			t.Fatalf("round trip changed %#v into %#v (via %s)", v, v2, enc)
		}
	})
}

// sameValue compares decoded values, numbers by value: a whole float64
// encodes as an integer and reads back as an int64, -0 as 0.
func sameValue(a, b any) bool {
	if x, ok := xmlrpc.AsFloat(a); ok {
		if _, isStr := a.(string); !isStr {
			y, ok := xmlrpc.AsFloat(b)
			_, bStr := b.(string)
			return ok && !bStr && x == y
		}
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			if f, ok := y[k]; !ok || !sameValue(e, f) {
				return false
			}
		}
		return true
	case nil, bool, string:
		return a == b
	}
	return false
}

// FuzzParseTime: an accepted datetime formats back to itself (to the
// second), and a refused one is quoted in the error.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20240102T03:04:05Z", "20240102T03:04:05", "2024-01-02T03:04:05+02:00",
		"20240102T03:04:05-01:30", "0000-01-01T00:30:00+01:00", "20240102T03:04:05.5Z", "2024-13-01T00:00:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := xmlrpc.ParseTime(s)
		if err != nil {
			if !errors.Is(err, xmlrpc.ErrSyntax) || !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseTime(%q): error %v does not quote the value", s, err)
			}
			return
		}
		if at.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not in UTC", s, at)
		}
		back, err := xmlrpc.ParseTime(xmlrpc.FormatTime(at))
		if err != nil || !back.Equal(at.Truncate(time.Second)) {
			t.Fatalf("ParseTime(%q) = %v formats as %q, which reads back as %v (%v)", s, at, xmlrpc.FormatTime(at), back, err)
		}
	})
}
