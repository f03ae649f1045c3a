package xapisim_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"xbr/shared/xapi/xapisim"
	"xbr/shared/xapi/xmlrpc"
)

// newPool starts a simulated pool of n hosts over TLS and returns the hosts'
// URLs and an HTTP client that trusts every host's certificate and never
// follows redirects.
func newPool(t *testing.T, n int) (*xapisim.Server, []string, *http.Client) {
	t.Helper()
	s, err := xapisim.New(xapisim.Options{Hosts: n, VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	urls, err := s.StartHosts(0)
	if err != nil {
		t.Fatal(err)
	}
	hc := poolClient(s, n)
	return s, urls, hc
}

// poolClient trusts the certificates of the pool's n hosts and does not
// follow redirects.
func poolClient(s *xapisim.Server, n int) *http.Client {
	roots := x509.NewCertPool()
	for i := range n {
		roots.AddCert(s.Certificate(i))
	}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// poolCall makes an XML-RPC call to one host; it returns Value, the
// ErrorDescription and the response headers.
func poolCall(t *testing.T, hc *http.Client, u string, hdr http.Header, method string, params ...any) (any, []string, http.Header) {
	t.Helper()
	body, err := xmlrpc.EncodeCall(method, params)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, u+"/", strings.NewReader(string(body)))
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	v, err := xmlrpc.DecodeResponse(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := xmlrpc.AsMap(v)
	if m["Status"] == "Success" {
		return m["Value"], nil, resp.Header
	}
	desc, _ := xmlrpc.AsStrings(m["ErrorDescription"])
	return nil, desc, resp.Header
}

func host(u string) string { p, _ := url.Parse(u); return p.Host }

// TestPoolMemberAnswersHostIsSlave: a login or a call with a user session
// on a non-master host gets HOST_IS_SLAVE [master address], with the
// master's fingerprint when asked; after a master change the old master
// answers so.
func TestPoolMemberAnswersHostIsSlave(t *testing.T) {
	s, urls, hc := newPool(t, 2)
	ask := http.Header{"X-Xenapi-Request-Host-Certificate-Thumbprint": {"sha-256:master"}}
	_, desc, h := poolCall(t, hc, urls[1], ask, "session.login_with_password", "root", "xapisim")
	if fmt.Sprint(desc) != fmt.Sprint([]string{"HOST_IS_SLAVE", host(urls[0])}) {
		t.Fatalf("login on host 2: %v", desc)
	}
	sum := sha256.Sum256(s.Certificate(0).Raw)
	if got := strings.ReplaceAll(strings.ToLower(h.Get("X-Xenapi-Response-Host-Certificate-Thumbprint")), ":", ""); got != fmt.Sprintf("%x", sum) {
		t.Fatalf("thumbprint %q, want the master's %x", got, sum)
	}
	v, desc, _ := poolCall(t, hc, urls[0], nil, "session.login_with_password", "root", "xapisim")
	if desc != nil {
		t.Fatal(desc)
	}
	sess := v.(string)
	if _, desc, _ := poolCall(t, hc, urls[1], nil, "pool.get_all", sess); fmt.Sprint(desc) != fmt.Sprint([]string{"HOST_IS_SLAVE", host(urls[0])}) {
		t.Fatalf("call on host 2: %v", desc)
	}
	if _, desc, _ := poolCall(t, hc, urls[0], nil, "pool.designate_new_master", sess, s.Hosts()[1]); desc != nil {
		t.Fatal(desc)
	}
	if _, desc, _ := poolCall(t, hc, urls[0], nil, "pool.get_all", sess); fmt.Sprint(desc) != fmt.Sprint([]string{"HOST_IS_SLAVE", host(urls[1])}) {
		t.Fatalf("call on the old master: %v", desc)
	}
	if _, desc, _ := poolCall(t, hc, urls[1], nil, "pool.get_all", sess); desc != nil {
		t.Fatalf("the session on the new master: %v", desc)
	}
}

// TestPoolCertificateRecords: each host's Certificate record carries the
// SHA-256 of the certificate that host serves, as XAPI prints it.
func TestPoolCertificateRecords(t *testing.T) {
	s, urls, hc := newPool(t, 2)
	v, _, _ := poolCall(t, hc, urls[0], nil, "session.login_with_password", "root", "xapisim")
	recs, desc, _ := poolCall(t, hc, urls[0], nil, "Certificate.get_all_records", v)
	if desc != nil {
		t.Fatal(desc)
	}
	byHost := map[string]string{}
	for _, r := range recs.(map[string]any) {
		rec := r.(map[string]any)
		byHost[rec["host"].(string)] = rec["fingerprint_sha256"].(string)
	}
	for i, h := range s.Hosts() {
		sum := sha256.Sum256(s.Certificate(i).Raw)
		want := strings.ToUpper(fmt.Sprintf("%x", sum))
		if strings.ReplaceAll(byHost[h], ":", "") != want || len(byHost[h]) != 95 {
			t.Fatalf("host %d fingerprint %q, want %s in colon-separated pairs", i+1, byHost[h], want)
		}
	}
}

// TestPoolRedirectsTransfers: /export, /export_raw_vdi and /import for
// storage local to host 2 answer 302 to host 2 on host 1, before any body,
// and are served on host 2; an unknown sr_id answers 500 and leaves the
// caller's task pending; a chunked import answers 403.
func TestPoolRedirectsTransfers(t *testing.T) {
	s, urls, hc := newPool(t, 2)
	v, _, _ := poolCall(t, hc, urls[0], nil, "session.login_with_password", "root", "xapisim")
	sess := v.(string)
	vm := vmByName(t, s, "vm-02") // placed on host 2
	if vm.PowerState != "Halted" {
		t.Fatalf("vm-02 is %s", vm.PowerState)
	}
	for _, path := range []string{
		"/export?ref=" + vm.Ref + "&session_id=" + sess,
		"/export_raw_vdi?format=raw&vdi=" + vm.VDIs[0] + "&session_id=" + sess,
	} {
		resp, err := hc.Get(urls[0] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != urls[1]+path {
			t.Fatalf("GET %s on host 1: %s Location %q, want 302 to %s", path, resp.Status, resp.Header.Get("Location"), urls[1])
		}
		resp, err = hc.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 1<<20 {
			t.Fatalf("GET %s on host 2: %s, %d bytes", path, resp.Status, n)
		}
	}
	put := func(u string, body io.Reader, size int64) *http.Response {
		req, _ := http.NewRequest(http.MethodPut, u, body)
		req.ContentLength = size
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	imp := "/import?session_id=" + sess + "&sr_id=" + s.LocalSR(1)
	if resp := put(urls[0]+imp, strings.NewReader(""), 0); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != urls[1]+imp {
		t.Fatalf("PUT /import for host 2's SR on host 1: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	task, _, _ := poolCall(t, hc, urls[0], nil, "task.create", sess, "t", "")
	bad := "/import?session_id=" + sess + "&task_id=" + task.(string) + "&sr_id=OpaqueRef:00000000-0000-0000-0000-000000000000"
	if resp := put(urls[0]+bad, strings.NewReader("x"), 1); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("PUT /import with an unknown sr_id: %s, want 500", resp.Status)
	}
	if st, _, _ := poolCall(t, hc, urls[0], nil, "task.get_status", sess, task); st != "pending" {
		t.Fatalf("the caller's task is %v after a 500 before the reply; XAPI leaves it pending", st)
	}
	chunked := "/import?session_id=" + sess + "&sr_id=" + s.LocalSR(0)
	if resp := put(urls[0]+chunked, io.MultiReader(strings.NewReader("x")), -1); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("chunked PUT /import: %s, want 403", resp.Status)
	}
}

// TestSnapshotParamsFollowClaimedVersion: ignore_vdis exists from xapi
// 21.4; a host claiming an older xapi refuses a fourth VM.snapshot param.
func TestSnapshotParamsFollowClaimedVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    string
	}{{"1.249.26", "MESSAGE_PARAMETER_COUNT_MISMATCH"}, {"24.19", ""}} {
		s, u := newSim(t, xapisim.Options{XapiVersion: tc.version})
		sess := login(t, s, u)
		vm := vmByName(t, s, "vm-02")
		_, desc := xmlCall(t, u, "VM.snapshot", sess, vm.Ref, "snap", []any{})
		if (desc == nil) != (tc.want == "") || desc != nil && desc[0] != tc.want {
			t.Fatalf("xapi %s: VM.snapshot with ignore_vdis: %v, want %q", tc.version, desc, tc.want)
		}
		if _, desc := xmlCall(t, u, "VM.snapshot", sess, vm.Ref, "snap"); desc != nil {
			t.Fatalf("xapi %s: VM.snapshot: %v", tc.version, desc)
		}
	}
}
