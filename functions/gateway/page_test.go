package gateway_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/xapi"
)

// doHost is h.do with the Host header (and a matching same-origin Origin)
// of host: what a browser sends after DNS rebinding.
func (h *harness) doHost(t *testing.T, host, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Host = host
	req.Header.Set("Origin", "http://"+host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) port() string { u, _ := url.Parse(h.srv.URL); return u.Port() }

func restoreForm(t *testing.T, h *harness) url.Values {
	t.Helper()
	return restoreFormWith(t, h, nil)
}

func restoreFormWith(t *testing.T, h *harness, hd http.Header) url.Values {
	t.Helper()
	_, page := h.do(t, "GET", "/restore?backup="+url.QueryEscape(h.backup.String()), hd, "")
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(page)
	sr := regexp.MustCompile(`<option value="([0-9a-f-]+)" selected>`).FindStringSubmatch(page)
	if nonce == nil || sr == nil {
		t.Fatalf("no nonce or default SR in the form:\n%s", page)
	}
	return url.Values{"backup": {h.backup.String()}, "pool": {"lab"}, "sr": {sr[1]}, "nonce": {nonce[1]}}
}

// Finding 6: the page answers only to its own names (DNS rebinding).
func TestPageRefusesAForeignHost(t *testing.T) {
	h := newHarness(t)
	form := restoreForm(t, h)
	evil := "evil.example:" + h.port()
	if code, out := h.doHost(t, evil, "POST", "/restore", formHeader, form.Encode()); code != http.StatusMisdirectedRequest {
		t.Fatalf("restore form with Host %s: status %d (%.200s), want 421", evil, code, out)
	}
	if code, _ := h.doHost(t, evil, "GET", "/", nil, ""); code != http.StatusMisdirectedRequest {
		t.Fatalf("GET / with Host %s: status %d, want 421", evil, code)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested through a foreign Host", n)
	}
	for _, host := range []string{"localhost:" + h.port(), "127.0.0.1:" + h.port()} {
		if code, _ := h.doHost(t, host, "GET", "/", nil, ""); code != http.StatusOK {
			t.Errorf("GET / with Host %s: status %d, want 200", host, code)
		}
	}
	if code, _ := h.doHost(t, evil, "GET", "/healthz", nil, ""); code != http.StatusOK {
		t.Errorf("probes come with any Host: /healthz answered %d", code)
	}
}

func TestDRFormRefusesAForeignHost(t *testing.T) {
	h := newDRHarness(t)
	_, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	form.Set("start", "on")
	evil := "evil.example:" + h.port()
	if code, out := h.doHost(t, evil, "POST", "/dr/failover", formHeader, form.Encode()); code != http.StatusMisdirectedRequest {
		t.Fatalf("failover form with Host %s: status %d (%.200s), want 421", evil, code, out)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("the refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
}

// Finding 6: a form token is issued by the server; 32 hex digits made up
// by anyone do not pass.
func TestFormTokensAreIssuedByTheServer(t *testing.T) {
	h := newHarness(t)
	form := restoreForm(t, h)
	form.Set("nonce", randomHex(t))
	if code, out := h.do(t, "POST", "/restore", formHeader, form.Encode()); code != http.StatusBadRequest {
		t.Fatalf("restore form with a made-up nonce: status %d (%.200s), want 400", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested with a made-up nonce", n)
	}
}

func TestDRFormTokensAreIssuedByTheServer(t *testing.T) {
	h := newDRHarness(t)
	_, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	form.Set("start", "on")
	form.Set("nonce", randomHex(t))
	if code, out := h.do(t, "POST", "/dr/failover", formHeader, form.Encode()); code != http.StatusBadRequest {
		t.Fatalf("failover form with a made-up nonce: status %d (%.200s), want 400", code, out)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("the refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func FuzzIsFormToken(f *testing.F) {
	for _, s := range []string{"1714528813." + strings.Repeat("0a", 16) + "." + strings.Repeat("0b", 32),
		strings.Repeat("ab", 16), "..", "01." + strings.Repeat("0a", 16) + "." + strings.Repeat("0b", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !gateway.IsFormToken(s) {
			return
		}
		parts := strings.Split(s, ".")
		if len(parts) != 3 || len(parts[1]) != 32 || len(parts[2]) != 64 {
			t.Fatalf("accepted %q", s)
		}
		if _, err := gateway.ParseUnixSeconds(parts[0]); err != nil {
			t.Fatalf("accepted expiry %q: %v", parts[0], err)
		}
	})
}
