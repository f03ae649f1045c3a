package xmlrpc_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

func TestEncodeMatchesXAPIBytes(t *testing.T) {
	ts := time.Date(2025, 3, 19, 4, 16, 24, 0, time.UTC)
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"empty string", "", "<value></value>"},
		{"escaped", `a<b>&"c'`, "<value>a&lt;b&gt;&amp;&quot;c'</value>"},
		{"control bytes dropped", "a\x01b\tc\nd\re", "<value>ab\tc\nd\re</value>"},
		{"int untagged", int64(4294967296), "<value>4294967296</value>"},
		{"i4", xmlrpc.I4(7), "<value><i4>7</i4></value>"},
		{"bool", true, "<value><boolean>1</boolean></value>"},
		{"float one", 1.0, "<value><double>1</double></value>"},
		{"float third", 1.0 / 3, "<value><double>0.3333333333333333</double></value>"},
		{"datetime", ts, "<value><dateTime.iso8601>20250319T04:16:24Z</dateTime.iso8601></value>"},
		{"empty set", []string{}, "<value><array><data></data></array></value>"},
		{"nil", nil, "<value><nil/></value>"},
		{"map sorted", map[string]any{"b": "2", "a": "1"},
			"<value><struct><member><name>a</name><value>1</value></member><member><name>b</name><value>2</value></member></struct></value>"},
	}
	for _, c := range cases {
		got, err := xmlrpc.Marshal(c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestSuccessAndFailureEnvelopes(t *testing.T) {
	got, err := xmlrpc.EncodeSuccess("OpaqueRef:8c2f3b8e-5b8a-4f6e-9d1c-1e1f1e1f1e1f")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Success</value></member><member><name>Value</name><value>OpaqueRef:8c2f3b8e-5b8a-4f6e-9d1c-1e1f1e1f1e1f</value></member></struct></value></param></params></methodResponse>`
	if string(got) != want {
		t.Errorf("success:\n got %s\nwant %s", got, want)
	}
	fail := xmlrpc.EncodeFailure([]string{"SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"})
	wantFail := `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name><value><array><data><value>SESSION_AUTHENTICATION_FAILED</value><value>root</value><value>Authentication failure</value></data></array></value></member></struct></value></param></params></methodResponse>`
	if string(fail) != wantFail {
		t.Errorf("failure:\n got %s\nwant %s", fail, wantFail)
	}
}

func TestCallRoundTrip(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	params := []any{"OpaqueRef:s", []any{"VM", "task"}, "1,0", 60.1, true, int64(-12), ts,
		map[string]any{"k": []any{map[string]any{}}, "e": ""}}
	data, err := xmlrpc.EncodeCall("event.from", params)
	if err != nil {
		t.Fatal(err)
	}
	m, got, err := xmlrpc.DecodeCall(data)
	if err != nil {
		t.Fatal(err)
	}
	if m != "event.from" {
		t.Errorf("method %q", m)
	}
	// int64 encodes untagged, so it decodes as its decimal string.
	want := append([]any(nil), params...)
	want[5] = "-12"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("params:\n got %#v\nwant %#v", got, want)
	}
}

func TestDecodeToleratesOtherClients(t *testing.T) {
	doc := `<?xml version="1.0"?>
<methodCall>
  <methodName>VM.snapshot</methodName>
  <params>
    <param><value><string>OpaqueRef:a</string></value></param>
    <param><value><int>42</int></value></param>
    <param><value><i8>-1</i8></value></param>
    <param><value><base64>aGk=</base64></value></param>
    <param><value><dateTime.iso8601>20250319T04:16:24</dateTime.iso8601></value></param>
    <param><value>  spaced  </value></param>
  </params>
</methodCall>`
	_, params, err := xmlrpc.DecodeCall([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"OpaqueRef:a", int64(42), int64(-1), "hi", time.Date(2025, 3, 19, 4, 16, 24, 0, time.UTC), "  spaced  "}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("got %#v\nwant %#v", params, want)
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	cases := map[string]string{
		`<methodCall><params></params></methodCall>`:                                                                             "expected <methodName>",
		`<methodCall><methodName>x</methodName><params><param><value><int>zz</int></value></param></params>`:                     `<int> "zz" is not an integer`,
		`<methodCall><methodName>x</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>`: "<boolean>",
		`<methodCall><methodName>x</methodName><params><param><value><foo>1</foo></value></param></params></methodCall>`:         "unknown value type <foo>",
		`<methodCall><methodName>x</methodName></methodCall>trailing`:                                                            "trailing text",
		`<methodCall><methodName></methodName></methodCall>`:                                                                     "empty methodName",
		strings.Repeat("<value><array><data>", 100):                                                                              "",
	}
	for doc, want := range cases {
		_, _, err := xmlrpc.DecodeCall([]byte(doc))
		if err == nil || !errors.Is(err, xmlrpc.ErrSyntax) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60q: err %v, want containing %q", doc, err, want)
		}
	}
	deep := strings.Repeat("<value><array><data>", 100) + strings.Repeat("</data></array></value>", 100)
	if _, err := xmlrpc.Unmarshal([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestDecodeResponseAndFault(t *testing.T) {
	v, err := xmlrpc.DecodeResponse(xmlrpc.EncodeFailure([]string{"HANDLE_INVALID", "VM", "OpaqueRef:x"}))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := xmlrpc.AsMap(v)
	if m["Status"] != "Failure" {
		t.Errorf("status %v", m["Status"])
	}
	if d, _ := xmlrpc.AsStrings(m["ErrorDescription"]); !reflect.DeepEqual(d, []string{"HANDLE_INVALID", "VM", "OpaqueRef:x"}) {
		t.Errorf("description %v", d)
	}
	fault := `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>Too many</value></member></struct></value></fault></methodResponse>`
	_, err = xmlrpc.DecodeResponse([]byte(fault))
	var f *xmlrpc.Fault
	if !errors.As(err, &f) || f.Code != 4 || f.String != "Too many" {
		t.Errorf("fault: %v", err)
	}
}

func TestJSON(t *testing.T) {
	ts := time.Date(2025, 3, 19, 4, 16, 24, 0, time.UTC)
	v := xmlrpc.Struct{{"b", int64(4294967296)}, {"a", ts}, {"c", []any{true, 0.5, nil}}, {"d", map[string]any{"z": "1", "y": ""}}}
	got, err := xmlrpc.AppendJSON(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":4294967296,"a":"20250319T04:16:24Z","c":[true,0.5,null],"d":{"y":"","z":"1"}}`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	back, err := xmlrpc.DecodeJSON(got)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := xmlrpc.AsMap(back)
	if n, ok := xmlrpc.AsInt(m["b"]); !ok || n != 4294967296 {
		t.Errorf("int: %#v", m["b"])
	}
	if tt, ok := xmlrpc.AsTime(m["a"]); !ok || !tt.Equal(ts) {
		t.Errorf("time: %#v", m["a"])
	}
	if _, err := xmlrpc.DecodeJSON([]byte(`{"a":1} {}`)); err == nil {
		t.Error("trailing JSON accepted")
	}
}

func TestAsConversions(t *testing.T) {
	if n, ok := xmlrpc.AsInt("123"); !ok || n != 123 {
		t.Error("AsInt string")
	}
	if _, ok := xmlrpc.AsInt("12x"); ok {
		t.Error("AsInt accepted garbage")
	}
	if m, ok := xmlrpc.AsStringMap(map[string]any{"a": "b"}); !ok || m["a"] != "b" {
		t.Error("AsStringMap")
	}
	if _, ok := xmlrpc.AsStringMap(map[string]any{"a": int64(1)}); ok {
		t.Error("AsStringMap accepted a non-string")
	}
}
