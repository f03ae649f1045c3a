package gateway_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"xbr/events"
	"xbr/shared/restoreclient"
)

func TestRestoreViewSteps(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		name, path string
		want       []string
	}{
		{"home", "/restore", []string{`href="/restore?remote=nfs"`, "Snapshots are not backups", `lang="en"`, `name="viewport"`, "No restore in the last 30 days"}},
		{"VMs of the remote", "/restore?remote=nfs", []string{h.vm.NameLabel, h.vm.UUID, `href="/restore?remote=nfs&amp;vm=` + h.vm.UUID + `"`}},
		{"backups of the VM", "/restore?remote=nfs&vm=" + h.vm.UUID, []string{"2024-05-01 02:00:13 UTC", "gzip", "nightly / daily",
			`href="/restore?backup=` + url.QueryEscape(h.backup.String()) + `"`}},
		{"pool and SR", "/restore?backup=" + url.QueryEscape(h.backup.String()), []string{`<form method="post" action="/restore"`,
			`<label for="sr">`, `<label for="name">`, `<label for="start">`, "(default)", `name="nonce"`}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, page := h.do(t, "GET", s.path, nil, "")
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, page)
			}
			for _, w := range s.want {
				if !strings.Contains(strings.ToLower(page), strings.ToLower(w)) { // %-escapes may be lower case
					t.Errorf("page lacks %q:\n%s", w, page)
				}
			}
		})
	}
}

func TestRestoreViewRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/restore?backup=" + url.QueryEscape("nfs:../../etc/"+h.backup.Timestamp()), 400},
		{"/restore?backup=" + url.QueryEscape("/etc/passwd"), 400},
		{"/restore?backup=" + url.QueryEscape("nfs:"+h.vm.UUID+"/20200101T000000Z"), 404},
		{"/restore?remote=..%2F..", 400},
		{"/restore?remote=elsewhere", 404},
		{"/restore?remote=nfs&vm=..%2F", 404}, // a VM name no backup carries
		{"/restore?remote=nfs&vm=%00", 400},
		{"/restore?backup=" + url.QueryEscape(h.backup.String()) + "&pool=prod", 404},
		{"/restores/not%20an%20id", 400},
		{"/nope", 404},
	} {
		if code, page := h.do(t, "GET", tc.path, nil, ""); code != tc.code {
			t.Errorf("GET %s: status %d, want %d: %.300s", tc.path, code, tc.code, page)
		}
	}
}

func TestRestoreFormSubmission(t *testing.T) {
	h := newHarness(t)
	_, page := h.do(t, "GET", "/restore?backup="+url.QueryEscape(h.backup.String()), nil, "")
	nonce := regexp.MustCompile(`name="nonce" value="([0-9a-f.]+)"`).FindStringSubmatch(page)
	sr := regexp.MustCompile(`<option value="([0-9a-f-]+)" selected>`).FindStringSubmatch(page)
	if nonce == nil || sr == nil {
		t.Fatalf("no nonce or default SR in the form:\n%s", page)
	}
	form := url.Values{"backup": {h.backup.String()}, "pool": {"lab"}, "sr": {sr[1]}, "nonce": {nonce[1]},
		"name": {"web (from the page)"}, "start": {"on"}}.Encode()
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	crossSite := http.Header{"Content-Type": hd["Content-Type"], "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	if code, _ := h.do(t, "POST", "/restore", crossSite, form); code != http.StatusForbidden {
		t.Fatalf("cross-site form post: status %d, want 403", code)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("a cross-site post published %d requests", n)
	}
	bad := strings.Replace(form, "nonce=", "nonce=zz", 1)
	if code, _ := h.do(t, "POST", "/restore", hd, bad); code != http.StatusBadRequest {
		t.Fatalf("bad nonce: status %d, want 400", code)
	}

	h.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	sameOrigin := http.Header{"Content-Type": hd["Content-Type"], "Sec-Fetch-Site": {"same-origin"}}
	var ids []string
	for range 2 { // a double submission is one request
		req, _ := http.NewRequest("POST", h.srv.URL+"/restore", strings.NewReader(form))
		req.Header = sameOrigin.Clone()
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/restores/") {
			t.Fatalf("status %d, Location %q", resp.StatusCode, loc)
		}
		ids = append(ids, strings.TrimPrefix(loc, "/restores/"))
	}
	if ids[0] != ids[1] || h.count(t, events.TypeRestoreRequested) != 1 {
		t.Fatalf("double submission: ids %v, %d requests", ids, h.count(t, events.TypeRestoreRequested))
	}
	st := lookup(t, h, ids[0])
	if st.SR != sr[1] || st.Name != "web (from the page)" || !st.Start || st.RequestedBy != "web" {
		t.Fatalf("requested %+v", st)
	}
	code, status := h.do(t, "GET", "/restores/"+ids[0], nil, "")
	if code != http.StatusOK || !strings.Contains(status, string(restoreclient.StatePending)) || !strings.Contains(status, "/static/status.js") {
		t.Fatalf("status page %d:\n%s", code, status)
	}
	if _, home := h.do(t, "GET", "/restore", nil, ""); !strings.Contains(home, `href="/restores/`+ids[0]+`"`) {
		t.Fatalf("the home page does not list the recent restore:\n%s", home)
	}
}

func TestHealthz(t *testing.T) {
	h := newHarness(t)
	if code, body := h.do(t, "GET", "/healthz", nil, ""); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	_ = h.env.Conn.Close()
	if code, _ := h.do(t, "GET", "/healthz", nil, ""); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz without NATS: %d, want 503", code)
	}
}

func TestStaticAssetsAreEmbedded(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/static/style.css", "/static/status.js"} {
		if code, body := h.do(t, "GET", p, nil, ""); code != http.StatusOK || len(body) < 100 {
			t.Errorf("GET %s: %d, %d bytes", p, code, len(body))
		}
	}
	for _, p := range []string{"/", "/restore"} {
		_, page := h.do(t, "GET", p, nil, "")
		if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
			t.Errorf("the page %s loads an external asset:\n%s", p, page)
		}
	}
}
