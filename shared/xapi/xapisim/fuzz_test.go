package xapisim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xbr/shared/xapi/xapisim"
)

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8GiB", "512M", "16g", "1048576", "1.5G", "-1", "", "99999999999T", "10 kb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := xapisim.ParseSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), "size") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

// FuzzRPC feeds arbitrary request bodies to the XML-RPC and JSON-RPC
// endpoints: every answer is a well-formed HTTP response of the right type.
func FuzzRPC(f *testing.F) {
	f.Add("/", `<?xml version="1.0"?><methodCall><methodName>session.login_with_password</methodName><params><param><value>root</value></param><param><value>xapisim</value></param></params></methodCall>`)
	f.Add("/", `<methodCall><methodName>event.from</methodName><params><param><value>x</value></param><param><value><array><data><value>*</value></data></array></value></param><param><value>1,0</value></param><param><value><double>0</double></value></param></params></methodCall>`)
	f.Add("/jsonrpc", `{"jsonrpc":"2.0","id":0,"method":"system.listMethods","params":[]}`)
	f.Add("/jsonrpc", `{"id":"a","method":"session.login_with_password","params":["root","xapisim","1.1","x"]}`)
	f.Add("/jsonrpc", `{"id":1,"method":"VM.get_all_records","params":[null]}`)
	s, err := xapisim.New(xapisim.Options{VMs: 1, DiskSize: 1 << 20, DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != "/jsonrpc" {
			path = "/"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		ct := rec.Header().Get("Content-Type")
		switch {
		case rec.Code == 500 && ct == "text/html":
		case rec.Code == 200 && path == "/" && ct == "text/xml":
		case rec.Code == 200 && path == "/jsonrpc" && ct == "application/json":
		default:
			t.Fatalf("POST %s %q: HTTP %d %q", path, body, rec.Code, ct)
		}
	})
}
