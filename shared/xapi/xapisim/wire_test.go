package xapisim_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"xbr/shared/xapi/xapisim"
)

const loginCall = `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>session.login_with_password</methodName>` +
	`<params><param><value>root</value></param><param><value>%s</value></param></params></methodCall>`

func TestXMLRPCBytesAreXAPIs(t *testing.T) {
	_, url := newSim(t, xapisim.Options{Password: "pw"})
	ref := regexp.MustCompile(`^<\?xml version="1.0"\?><methodResponse><params><param><value><struct>` +
		`<member><name>Status</name><value>Success</value></member><member><name>Value</name>` +
		`<value>OpaqueRef:[0-9a-f-]{36}</value></member></struct></value></param></params></methodResponse>$`)
	tests := []struct {
		name, path, body string
		match            func(string) bool
	}{
		{"login", "/", strings.Replace(loginCall, "%s", "pw", 1), ref.MatchString},
		{"login via /xmlrpc", "/xmlrpc", strings.Replace(loginCall, "%s", "pw", 1), ref.MatchString},
		{"failure", "/RPC2", strings.Replace(loginCall, "%s", "bad", 1), func(s string) bool {
			return s == `<?xml version="1.0"?><methodResponse><params><param><value><struct>`+
				`<member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name>`+
				`<value><array><data><value>SESSION_AUTHENTICATION_FAILED</value><value>root</value>`+
				`<value>Authentication failure</value></data></array></value></member></struct></value>`+
				`</param></params></methodResponse>`
		}},
		{"listMethods unwrapped", "/", `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>system.listMethods</methodName><params /></methodCall>`,
			func(s string) bool {
				return strings.HasPrefix(s, `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value>Certificate.get_all</value>`) &&
					strings.Contains(s, `<value>VM.snapshot</value>`) && strings.Contains(s, `<value>event.from</value>`) &&
					!strings.Contains(s, "Async.") && !strings.Contains(s, "Status")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, ctype, body := post(t, url+tc.path, tc.body)
			if code != 200 || ctype != "text/xml" || !tc.match(string(body)) {
				t.Fatalf("HTTP %d %q:\n%s", code, ctype, body)
			}
		})
	}
}

func TestEventFromXMLRPCBytes(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	tok := must(t, url, "event.inject", sess, "pool", s.PoolRef()).(string)
	if !regexp.MustCompile(`^\d{20},\d{20}$`).MatchString(tok) {
		t.Fatalf("token %q is not %%020d,%%020d", tok)
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>event.from</methodName><params>` +
		`<param><value>` + sess + `</value></param><param><value><array><data><value>pool</value></data></array></value></param>` +
		`<param><value>` + tok + `</value></param><param><value><double>5.1</double></value></param></params></methodCall>`
	_, _, out := post(t, url+"/", body)
	re := regexp.MustCompile(`^<\?xml version="1.0"\?><methodResponse><params><param><value><struct>` +
		`<member><name>Status</name><value>Success</value></member><member><name>Value</name><value><struct>` +
		`<member><name>events</name><value><array><data><value><struct>` +
		`<member><name>id</name><value>\d+</value></member><member><name>timestamp</name><value>0.0</value></member>` +
		`<member><name>class</name><value>pool</value></member><member><name>operation</name><value>mod</value></member>` +
		`<member><name>ref</name><value>` + s.PoolRef() + `</value></member><member><name>snapshot</name><value><struct>.*</struct></value></member>` +
		`</struct></value></data></array></value></member>` +
		`<member><name>valid_ref_counts</name><value><struct>(<member><name>[a-z_]+</name><value><i4>\d+</i4></value></member>)+</struct></value></member>` +
		`<member><name>token</name><value>\d{20},\d{20}</value></member></struct></value></member></struct></value></param></params></methodResponse>$`)
	if !re.Match(out) {
		t.Fatalf("event.from bytes:\n%s", out)
	}
	for _, class := range []string{"vm", "vdi", "vbd", "sr", "pool", "host", "task", "network"} {
		if !strings.Contains(string(out), "<name>"+class+"</name><value><i4>") {
			t.Errorf("valid_ref_counts lacks %s", class)
		}
	}
}

func TestJSONRPCVersions(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url) // sessions are shared between transports
	tests := []struct {
		name, body string
		check      func(map[string]any) bool
	}{
		{"v2 result", `{"jsonrpc":"2.0","id":3,"method":"pool.get_all","params":["` + sess + `"]}`,
			func(m map[string]any) bool {
				return m["jsonrpc"] == "2.0" && m["id"] == 3.0 && sprint(m["result"]) == "["+s.PoolRef()+"]"
			}},
		{"v2 error", `{"jsonrpc":"2.0","id":"x","method":"VM.get_record","params":["` + sess + `","OpaqueRef:nope"]}`,
			func(m map[string]any) bool {
				e, _ := m["error"].(map[string]any)
				return m["id"] == "x" && e["code"] == 1.0 && e["message"] == "HANDLE_INVALID" &&
					sprint(e["data"]) == "[VM OpaqueRef:nope]"
			}},
		{"v1 result", `{"id":4,"method":"SR.get_physical_size","params":["` + sess + `","` + s.SRRef() + `"]}`,
			func(m map[string]any) bool {
				_, isNum := m["result"].(float64) // ints are JSON numbers
				_, hasErr := m["error"]
				return isNum && hasErr && m["error"] == nil && m["id"] == 4.0
			}},
		{"v1 error", `{"id":5,"method":"session.logout","params":["OpaqueRef:gone"]}`,
			func(m map[string]any) bool {
				return m["result"] == nil && sprint(m["error"]) == "[SESSION_INVALID OpaqueRef:gone]"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsonCall(t, url, tc.body); !tc.check(got) {
				t.Fatalf("response %v", got)
			}
		})
	}
}

func TestHTTPEdges(t *testing.T) {
	_, url := newSim(t, xapisim.Options{})
	req, _ := http.NewRequest(http.MethodOptions, url+"/jsonrpc", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "X-Requested-With" {
		t.Fatalf("OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
	for _, tc := range []struct{ path, body string }{
		{"/", "<methodCall><methodName>x</methodName><params><param>"},
		{"/jsonrpc", `{"jsonrpc":"2.0","method":"pool.get_all","params":[]}`}, // no id
		{"/jsonrpc", `{"id":1,"method":"pool.get_all","params":{}}`},          // v1 params not an array
	} {
		if code, _, _ := post(t, url+tc.path, tc.body); code != 500 {
			t.Errorf("POST %s %s: HTTP %d, want 500", tc.path, tc.body, code)
		}
	}
}
