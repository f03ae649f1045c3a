package xapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xbr/shared/xapi"
)

func TestNewRejectsBadURLs(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"ftp://host", "scheme must be http or https"},
		{"host:443", "scheme must be http or https"},
		{"https://", "has no host"},
		{"https://root:hunter2@host", "must not carry credentials"},
		{"https://host/?x=1", "must not have a query"},
		{"http://root:hunter2@host:bad port", "not a valid URL"},
		{"https://root:hun/ter2@host", "not a valid URL"}, // a '/' in the password
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := xapi.New(tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%q) = %v, want error containing %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := map[string]xapi.Option{
		"short fingerprint": xapi.WithFingerprint("abcd"),
		"non-hex":           xapi.WithFingerprint(strings.Repeat("zz", 32)),
		"transport":         xapi.WithTransport(xapi.Transport(7)),
		"poll range":        xapi.WithTaskPoll(0, 0),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := xapi.New("https://host", opt); err == nil {
				t.Fatal("New accepted a bad option")
			}
		})
	}
}

func TestGarbageResponsesAreErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not xml", "<html>oops", "session.login_with_password: decode XML-RPC response"},
		{"no envelope", `<?xml version="1.0"?><methodResponse><params><param><value>OpaqueRef:x</value></param></params></methodResponse>`, "not a Status struct"},
		{"bad status", `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Maybe</value></member></struct></value></param></params></methodResponse>`, "want Success or Failure"},
		{"bad failure", `<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name><value>x</value></member></struct></value></param></params></methodResponse>`, "not a string array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeXAPI(t, map[string]func([]any) fakeReply{
				"session.login_with_password": func([]any) fakeReply { return fakeReply{raw: tt.body} },
			})
			c, err := xapi.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Login(context.Background(), "root", "pw")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Login = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Internal Error", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	c, _ := xapi.New(srv.URL)
	err := c.Login(context.Background(), "root", "pw")
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("Login = %v, want HTTP 500", err)
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	// A hostile or buggy server echoes the password back in the failure.
	srv := fakeXAPI(t, map[string]func([]any) fakeReply{
		"session.login_with_password": func(p []any) fakeReply {
			return fakeReply{failure: []string{"SESSION_AUTHENTICATION_FAILED", p[0].(string), "bad password " + p[1].(string)}}
		},
	})
	c, _ := xapi.New(srv.URL)
	err := c.Login(context.Background(), "root", "s3cret-pw")
	var xe *xapi.Error
	if !errors.As(err, &xe) || xe.Code != xapi.CodeAuthFailed {
		t.Fatalf("Login = %v, want *Error %s", err, xapi.CodeAuthFailed)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestRecordFieldOfWrongTypeNamesFieldAndValue(t *testing.T) {
	srv := fakeXAPI(t, map[string]func([]any) fakeReply{
		"session.login_with_password": loginOK,
		"VDI.get_record": func([]any) fakeReply {
			return fakeReply{value: map[string]any{"uuid": "u", "virtual_size": "lots", "future_field": "ignored"}}
		},
		"VM.get_record": func([]any) fakeReply {
			return fakeReply{value: map[string]any{"uuid": "u", "memory_static_max": "4294967296", "is_a_template": true}}
		},
	})
	c, _ := xapi.New(srv.URL)
	ctx := context.Background()
	if err := c.Login(ctx, "root", "pw"); err != nil {
		t.Fatal(err)
	}
	_, err := c.VDIRecord(ctx, "OpaqueRef:vdi")
	if err == nil || !strings.Contains(err.Error(), "virtual_size") || !strings.Contains(err.Error(), "lots") {
		t.Fatalf("VDIRecord = %v, want an error naming virtual_size and its value", err)
	}
	vm, err := c.VMRecord(ctx, "OpaqueRef:vm")
	if err != nil {
		t.Fatal(err)
	}
	if vm.MemoryStaticMax != 4294967296 || !vm.IsATemplate || vm.PowerState != "" {
		t.Fatalf("VM decoded as %+v", vm)
	}
}

func TestErrorFormatAndIsCode(t *testing.T) {
	e := &xapi.Error{Code: "VM_BAD_POWER_STATE", Params: []string{"OpaqueRef:a", "halted", "running"}}
	if got, want := e.Error(), "XAPI VM_BAD_POWER_STATE [OpaqueRef:a, halted, running]"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	wrapped := errors.Join(errors.New("ctx"), e)
	if !xapi.IsCode(wrapped, "VM_BAD_POWER_STATE") || xapi.IsCode(wrapped, "SESSION_INVALID") || xapi.IsCode(nil, "X") {
		t.Fatal("IsCode does not see through wrapping or matches the wrong code")
	}
}

func TestRefs(t *testing.T) {
	if !xapi.VMRef(xapi.NullRef).IsNull() || !xapi.VDIRef("").IsNull() || xapi.SRRef("OpaqueRef:1").IsNull() {
		t.Fatal("IsNull is wrong")
	}
	objs := map[string]xapi.Object{"VM": xapi.VMRef("a"), "VDI": xapi.VDIRef("a"), "pool": xapi.PoolRef("a"), "task": xapi.TaskRef("a")}
	for class, o := range objs {
		if o.Class() != class || o.Ref() != "a" {
			t.Fatalf("%T: class %q ref %q", o, o.Class(), o.Ref())
		}
	}
}

func fingerprintOf(t *testing.T, srv *httptest.Server, colons, upper bool) string {
	t.Helper()
	sum := sha256.Sum256(srv.Certificate().Raw)
	s := hex.EncodeToString(sum[:])
	if upper {
		s = strings.ToUpper(s)
	}
	if colons {
		var parts []string
		for i := 0; i < len(s); i += 2 {
			parts = append(parts, s[i:i+2])
		}
		s = strings.Join(parts, ":")
	}
	return s
}

func TestTLSVerification(t *testing.T) {
	srv := httptest.NewTLSServer(fakeHandler(t, map[string]func([]any) fakeReply{
		"session.login_with_password": loginOK,
	}))
	t.Cleanup(srv.Close)
	wrong := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		opts []xapi.Option
		ok   bool
	}{
		{"default rejects self-signed", nil, false},
		{"pinned hex", []xapi.Option{xapi.WithFingerprint(fingerprintOf(t, srv, false, false))}, true},
		{"pinned colons upper", []xapi.Option{xapi.WithFingerprint(fingerprintOf(t, srv, true, true))}, true},
		{"wrong pin", []xapi.Option{xapi.WithFingerprint(wrong)}, false},
		{"wrong pin even with insecure", []xapi.Option{xapi.WithInsecure(), xapi.WithFingerprint(wrong)}, false},
		{"insecure", []xapi.Option{xapi.WithInsecure()}, true},
		{"root CA", []xapi.Option{xapi.WithRootCAs(rootsOf(srv))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := xapi.New(srv.URL, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Login(context.Background(), "root", "pw")
			if tt.ok && err != nil {
				t.Fatalf("Login = %v, want success", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("Login succeeded, want a TLS failure")
			}
			if !tt.ok && strings.Contains(tt.name, "wrong pin") && !strings.Contains(err.Error(), "does not match the pinned") {
				t.Fatalf("Login = %v, want a fingerprint mismatch", err)
			}
		})
	}
}
