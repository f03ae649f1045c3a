package xapisim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xapi/xmlrpc"
)

// newSim starts a simulator on 127.0.0.1 and stops it when the test ends.
func newSim(t *testing.T, opts xapisim.Options) (*xapisim.Server, string) {
	t.Helper()
	if opts.DiskSize == 0 {
		opts.DiskSize = 4 << 20
	}
	opts.DataDir = t.TempDir()
	s, err := xapisim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

// post sends body and returns the status, content type and response body.
func post(t *testing.T, url, body string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(url, "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// xmlCall makes an XML-RPC call and returns Value, or an error holding the
// ErrorDescription.
func xmlCall(t *testing.T, url, method string, params ...any) (any, []string) {
	t.Helper()
	body, err := xmlrpc.EncodeCall(method, params)
	if err != nil {
		t.Fatal(err)
	}
	code, ctype, out := post(t, url+"/", string(body))
	if code != 200 || ctype != "text/xml" {
		t.Fatalf("%s: HTTP %d %q: %s", method, code, ctype, out)
	}
	v, err := xmlrpc.DecodeResponse(out)
	if err != nil {
		t.Fatalf("%s: %v in %s", method, err, out)
	}
	m, _ := xmlrpc.AsMap(v)
	if m["Status"] == "Success" {
		return m["Value"], nil
	}
	desc, _ := xmlrpc.AsStrings(m["ErrorDescription"])
	return nil, desc
}

// must makes an XML-RPC call that must succeed.
func must(t *testing.T, url, method string, params ...any) any {
	t.Helper()
	v, desc := xmlCall(t, url, method, params...)
	if desc != nil {
		t.Fatalf("%s%v: %v", method, params, desc)
	}
	return v
}

// mustFail makes an XML-RPC call that must fail with code.
func mustFail(t *testing.T, url, code, method string, params ...any) []string {
	t.Helper()
	_, desc := xmlCall(t, url, method, params...)
	if len(desc) == 0 || desc[0] != code {
		t.Fatalf("%s%v: got error %v, want %s", method, params, desc, code)
	}
	return desc
}

func login(t *testing.T, s *xapisim.Server, url string) string {
	t.Helper()
	user, pass := s.Credentials()
	return must(t, url, "session.login_with_password", user, pass).(string)
}

// jsonCall makes a JSON-RPC call and returns the decoded response object.
func jsonCall(t *testing.T, url, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(url+"/jsonrpc", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content-type %q, want application/json", ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// taskDone waits for a task to leave pending and returns its record.
func taskDone(t *testing.T, s *xapisim.Server, task string) map[string]any {
	t.Helper()
	var rec map[string]any
	testsupport.Eventually(t, 10*time.Second, "task "+task+" to finish", func() bool {
		var err error
		rec, err = s.Record("task", task)
		return err == nil && rec["status"] != "pending"
	})
	return rec
}

// readAll reads a VDI's content through the Go accessor.
func vdiBytes(t *testing.T, s *xapisim.Server, ref string) []byte {
	t.Helper()
	r, size, err := s.VDIContent(ref)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if n, err := io.Copy(&b, r); err != nil || n != size {
		t.Fatalf("VDI %s: read %d of %d: %v", ref, n, size, err)
	}
	return b.Bytes()
}

func vmByName(t *testing.T, s *xapisim.Server, name string) xapisim.VMInfo {
	t.Helper()
	for _, vm := range s.VMs() {
		if vm.NameLabel == name {
			return vm
		}
	}
	t.Fatalf("no VM %q", name)
	return xapisim.VMInfo{}
}

func sprint(v any) string { return fmt.Sprint(v) }
