package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"xbr/functions/gateway"
	"xbr/shared/config"
)

// gatewayWith is another gateway on h's bus with its gateway section edited.
func gatewayWith(t *testing.T, h *harness, edit func(*config.Gateway), now time.Time) *harness {
	t.Helper()
	cfg := *h.env.Config
	edit(&cfg.Gateway)
	env := *h.env
	env.Config = &cfg
	if !now.IsZero() {
		env.Now = func() time.Time { return now }
	}
	s, err := gateway.New(&env)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &harness{env: h.env, srv: srv, backup: h.backup}
}

func usersFile(t *testing.T, lines ...string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(lines); i += 2 {
		hash, err := bcrypt.GenerateFromPassword([]byte(lines[i+1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(lines[i] + ":" + string(hash) + "\n")
	}
	name := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(name, []byte("# xbr users\n"+b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func basic(user, password string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return http.Header{"Authorization": r.Header["Authorization"], "Content-Type": formHeader["Content-Type"]}
}

func TestPageLoginWithUsersFile(t *testing.T) {
	h := newHarness(t)
	users := usersFile(t, "alice", "correct horse", "bob", "battery staple")
	g := gatewayWith(t, h, func(c *config.Gateway) { c.UsersFile = users }, time.Time{})
	for name, hd := range map[string]http.Header{"none": nil, "wrong password": basic("alice", "wrong"),
		"unknown user": basic("eve", "correct horse")} {
		code, _ := g.do(t, "GET", "/", hd, "")
		if code != http.StatusUnauthorized {
			t.Errorf("%s: GET / answered %d, want 401", name, code)
		}
	}
	if code, _ := g.do(t, "GET", "/", basic("alice", "correct horse"), ""); code != http.StatusOK {
		t.Fatalf("alice: GET / answered %d", code)
	}
	if code, _ := g.do(t, "GET", "/healthz", nil, ""); code != http.StatusOK {
		t.Errorf("/healthz needs no login: %d", code)
	}
	form := restoreFormAs(t, g, basic("alice", "correct horse"))
	// Bob cannot post the form served to Alice.
	if code, _ := g.do(t, "POST", "/restore", basic("bob", "battery staple"), form.Encode()); code != http.StatusBadRequest {
		t.Fatalf("bob posting alice's form: %d, want 400", code)
	}
	code, id := postForm(t, g, basic("alice", "correct horse"), form.Encode())
	if code != http.StatusSeeOther {
		t.Fatalf("alice posting her form: %d", code)
	}
	if st := lookup(t, h, id); st.RequestedBy != "web:alice" {
		t.Fatalf("requested_by %q, want web:alice", st.RequestedBy)
	}
}

func TestPageLoginBehindATrustedProxy(t *testing.T) {
	h := newHarness(t)
	trusted := gatewayWith(t, h, func(c *config.Gateway) {
		c.Auth = config.GatewayAuth{ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"127.0.0.1"}}
	}, time.Time{})
	untrusted := gatewayWith(t, h, func(c *config.Gateway) {
		c.Auth = config.GatewayAuth{ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"10.0.0.0/8"}}
	}, time.Time{})
	as := http.Header{"X-Forwarded-User": {"carol"}, "Content-Type": formHeader["Content-Type"]}
	if code, _ := untrusted.do(t, "GET", "/", as, ""); code != http.StatusUnauthorized {
		t.Fatalf("the header from a peer that is not a trusted proxy: %d, want 401", code)
	}
	if code, _ := trusted.do(t, "GET", "/", nil, ""); code != http.StatusUnauthorized {
		t.Fatalf("no header from the proxy: %d, want 401", code)
	}
	form := restoreFormAs(t, trusted, as)
	code, id := postForm(t, trusted, as, form.Encode())
	if code != http.StatusSeeOther {
		t.Fatalf("carol posting her form: %d", code)
	}
	if st := lookup(t, h, id); st.RequestedBy != "web:carol" {
		t.Fatalf("requested_by %q, want web:carol", st.RequestedBy)
	}
	// A proxy that appends its user header instead of replacing it passes
	// the client's own first: the user is not guessed from several.
	twice := http.Header{"X-Forwarded-User": {"admin", "carol"}}
	if code, body := trusted.do(t, "GET", "/", twice, ""); code != http.StatusUnauthorized ||
		!strings.Contains(body, "X-Forwarded-User") {
		t.Fatalf("the user header twice from the proxy: %d %q, want 401 naming the header", code, body)
	}
}

// Replicas with the same csrf_secret accept each other's forms; a form
// expires.
func TestFormTokensAcrossReplicasAndExpiry(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	secret := func(c *config.Gateway) { c.CSRFSecret = config.NewSecret("csrf-test-secret") }
	a := gatewayWith(t, h, secret, now)
	b := gatewayWith(t, h, secret, now.Add(time.Minute))
	late := gatewayWith(t, h, secret, now.Add(gateway.FormTokenTTL+time.Minute))
	other := gatewayWith(t, h, func(*config.Gateway) {}, now)
	form := restoreFormAs(t, a, nil)
	for name, g := range map[string]*harness{"expired": late, "another key": other} {
		if code, _ := postForm(t, g, formHeader, form.Encode()); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	if code, _ := postForm(t, b, formHeader, form.Encode()); code != http.StatusSeeOther {
		t.Fatalf("a replica with the same csrf_secret: %d, want 303", code)
	}
}

func restoreFormAs(t *testing.T, g *harness, hd http.Header) url.Values {
	t.Helper()
	inner := &harness{srv: g.srv, backup: g.backup, env: g.env}
	return restoreFormWith(t, inner, hd)
}

func postForm(t *testing.T, g *harness, hd http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", g.srv.URL+"/restore", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hd {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := *g.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, strings.TrimPrefix(resp.Header.Get("Location"), "/restores/")
}

func TestParseUsers(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	good := "# comment\n\nalice:" + string(hash) + "\r\n"
	if u, err := gateway.ParseUsers([]byte(good)); err != nil || len(u) != 1 {
		t.Fatalf("ParseUsers: %v, %v", u, err)
	}
	for doc, want := range map[string]string{
		"alice":                                      "1: not user:hash",
		"alice:{SHA}abc=":                            `1: user "alice": the hash is not bcrypt`,
		"alice:$apr1$x$y":                            "not bcrypt",
		"a b:" + string(hash):                        "must not contain",
		":" + string(hash):                           "must be 1 to 64 bytes",
		good + "alice:" + string(hash):               `4: user "alice": listed twice`,
		"x\x00:" + string(hash):                      "control character",
		strings.Repeat("u", 65) + ":" + string(hash): "1 to 64",
	} {
		_, err := gateway.ParseUsers([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseUsers(%.40q) = %v, want %q", doc, err, want)
		}
		if err != nil && strings.Contains(err.Error(), string(hash)) {
			t.Errorf("the error quotes the hash: %v", err)
		}
	}
}

func FuzzParseUsers(f *testing.F) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, s := range []string{"alice:" + string(hash), "# c\n", "a:b", "a:$2y$04$x", ":"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := gateway.ParseUsers(data)
		if err != nil {
			return
		}
		for u, h := range users {
			if u == "" || strings.ContainsAny(u, ": \t\n") {
				t.Fatalf("accepted user %q", u)
			}
			if _, err := bcrypt.Cost(h); err != nil {
				t.Fatalf("accepted a hash bcrypt cannot read for %q", u)
			}
		}
	})
}

func TestPagePublicNames(t *testing.T) {
	h := newHarness(t)
	named := gatewayWith(t, h, func(c *config.Gateway) {
		c.PublicNames = []string{"xbr.example.com", "Backup.Example.com:8443"}
	}, time.Time{})
	everywhere := gatewayWith(t, h, func(c *config.Gateway) { c.Listen = "0.0.0.0:8080"; c.AllowAnonymous = true }, time.Time{})
	for _, tc := range []struct {
		g    *harness
		host string
		code int
	}{
		{named, "xbr.example.com", http.StatusOK},
		{named, "XBR.example.com:443", http.StatusOK},
		{named, "backup.example.com:8443", http.StatusOK},
		{named, "backup.example.com:9999", http.StatusMisdirectedRequest},
		{named, "xbr.example.com.evil.example", http.StatusMisdirectedRequest},
		{named, "10.1.2.3:8080", http.StatusMisdirectedRequest},
		{named, "[::1]:8080", http.StatusOK},
		{everywhere, "10.1.2.3:8080", http.StatusOK},
		{everywhere, "[fd00::1]:8080", http.StatusOK},
		{everywhere, "evil.example:8080", http.StatusMisdirectedRequest},
	} {
		if code, _ := tc.g.doHost(t, tc.host, "GET", "/", nil, ""); code != tc.code {
			t.Errorf("Host %s: %d, want %d", tc.host, code, tc.code)
		}
	}
}
