package xmlrpc_test

import (
	"testing"

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
