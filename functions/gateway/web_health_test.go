package gateway_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/restoreclient"
)

// healthForm reads the health check form of the harness's backup: its
// token and the default SR.
func healthForm(t *testing.T, h *harness) url.Values {
	t.Helper()
	code, page := h.do(t, "GET", "/healthcheck?backup="+url.QueryEscape(h.backup.String()), nil, "")
	nonce := regexp.MustCompile(`name="nonce" value="([0-9a-f.]+)"`).FindStringSubmatch(page)
	sr := regexp.MustCompile(`<option value="([0-9a-f-]+)" selected>`).FindStringSubmatch(page)
	if code != http.StatusOK || nonce == nil || sr == nil {
		t.Fatalf("GET /healthcheck: %d, no nonce or default SR:\n%s", code, page)
	}
	return url.Values{"backup": {h.backup.String()}, "pool": {"lab"}, "sr": {sr[1]}, "nonce": {nonce[1]}}
}

// TestHealthCheckFormPublishesTheRequest: the backups step links each
// backup to its health check form; the form is refused cross-site, with a
// forged token or without an SR; a same-origin post publishes one
// xbr.healthcheck.requested (twice posted: still one) as the CLI does, and
// redirects to a status page that follows the check's events.
func TestHealthCheckFormPublishesTheRequest(t *testing.T) {
	h := newHarness(t)
	_, backups := h.do(t, "GET", "/restore?"+url.Values{"remote": {"nfs"}, "vm": {h.vm.UUID}}.Encode(), nil, "")
	link := regexp.MustCompile(`href="/healthcheck\?backup=([^"]+)"`).FindStringSubmatch(backups)
	if got, _ := url.QueryUnescape(valueOf(link)); got != h.backup.String() {
		t.Fatalf("the backups step links %q for a health check, want %s:\n%s", got, h.backup, backups)
	}
	form := healthForm(t, h)
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	crossSite := http.Header{"Content-Type": hd["Content-Type"], "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	if code, _ := h.do(t, "POST", "/healthcheck", crossSite, form.Encode()); code != http.StatusForbidden {
		t.Errorf("cross-site post: status %d, want 403", code)
	}
	forged := url.Values{"nonce": {strings.Repeat("1", 10) + "." + strings.Repeat("a", 32) + "." + strings.Repeat("b", 64)}}
	for k, v := range form {
		if k != "nonce" {
			forged[k] = v
		}
	}
	if code, _ := h.do(t, "POST", "/healthcheck", hd, forged.Encode()); code != http.StatusBadRequest {
		t.Errorf("forged token: status %d, want 400", code)
	}
	restoreToken := restoreForm(t, h).Get("nonce") // a token of another form
	noSR := url.Values{"backup": form["backup"], "pool": form["pool"], "nonce": {restoreToken}}
	if code, body := h.do(t, "POST", "/healthcheck", hd, noSR.Encode()); code != http.StatusBadRequest || !strings.Contains(body, "nonce") {
		t.Errorf("the restore form's token: status %d, want 400 naming the nonce", code)
	}
	noSR.Set("nonce", form.Get("nonce"))
	if code, body := h.do(t, "POST", "/healthcheck", hd, noSR.Encode()); code != http.StatusBadRequest || !strings.Contains(body, "sr") {
		t.Errorf("no SR: status %d, want 400 naming sr:\n%s", code, body)
	}
	if n := h.count(t, events.TypeHealthCheckRequested); n != 0 {
		t.Fatalf("refused posts published %d health checks", n)
	}
	ids := postHealthTwice(t, h, form)
	if ids[0] != ids[1] || h.count(t, events.TypeHealthCheckRequested) != 1 {
		t.Fatalf("double submission: ids %v, %d requests", ids, h.count(t, events.TypeHealthCheckRequested))
	}
	st, err := restoreclient.LookupHealth(context.Background(), h.env.Conn.JetStream(), h.env.Subjects, h.env.Streams, ids[0])
	if err != nil || st.State != restoreclient.HealthRequested || st.BackupID != h.backup.String() || st.Pool != "lab" ||
		st.SR != form.Get("sr") || st.RequestedBy != "web" || st.Method != events.HealthMethodGuestMetrics || st.VMUUID != h.vm.UUID {
		t.Fatalf("published %+v (%v)", st, err)
	}
	checkHealthStatusPage(t, h, ids[0], st)
}

// postHealthTwice posts form twice, same-origin, and returns the ids the
// redirects name.
func postHealthTwice(t *testing.T, h *harness, form url.Values) []string {
	t.Helper()
	h.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { h.srv.Client().CheckRedirect = nil }()
	var ids []string
	for range 2 {
		req, _ := http.NewRequest("POST", h.srv.URL+"/healthcheck", strings.NewReader(form.Encode()))
		req.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/healthchecks/"+events.HealthCheckIDPrefix) {
			t.Fatalf("status %d, Location %q", resp.StatusCode, loc)
		}
		ids = append(ids, strings.TrimPrefix(loc, "/healthchecks/"))
	}
	return ids
}

// checkHealthStatusPage: the page shows the request, then the outcome the
// healthcheck function publishes; the JSON it polls agrees; an unknown id
// is 404.
func checkHealthStatusPage(t *testing.T, h *harness, id string, st restoreclient.HealthStatus) {
	t.Helper()
	code, page := h.do(t, "GET", "/healthchecks/"+id, nil, "")
	if code != http.StatusOK || !strings.Contains(page, `state-requested`) || !strings.Contains(page, "/static/status.js") ||
		!strings.Contains(page, `href="/restores/`+id+`"`) {
		t.Fatalf("status page %d:\n%s", code, page)
	}
	h.publish(t, "hc-failed-"+id, events.HealthCheckFailed{RequestID: id, BackupID: st.BackupID, VMUUID: st.VMUUID, Pool: "lab",
		SR: st.SR, Reason: events.HealthReasonTimeout, Error: "the guest did not report within 10m0s", DurationMS: 600000}, time.Now())
	code, page = h.do(t, "GET", "/healthchecks/"+id, nil, "")
	if code != http.StatusOK || !strings.Contains(page, `state-failed`) || !strings.Contains(page, "The health check failed (timeout)") ||
		strings.Contains(page, "/static/status.js") {
		t.Fatalf("status page after the outcome %d:\n%s", code, page)
	}
	code, body := h.do(t, "GET", "/healthchecks/"+id+"/status", nil, "")
	if got := decode[restoreclient.HealthStatus](t, body); code != http.StatusOK || got.State != restoreclient.HealthFailed || got.Reason != events.HealthReasonTimeout {
		t.Fatalf("status JSON %d: %s", code, body)
	}
	if code, _ := h.do(t, "GET", "/healthchecks/hc-nosuch", nil, ""); code != http.StatusNotFound {
		t.Errorf("unknown health check: status %d, want 404", code)
	}
}

// valueOf is a regexp match's first group ("" without a match).
func valueOf(m []string) string {
	if len(m) < 2 {
		return ""
	}
	return m[1]
}
