package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/functions/gateway"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// drPageAt is the harness's gateway again with its clock at now.
func drPageAt(t *testing.T, h *drHarness, now time.Time) *httptest.Server {
	t.Helper()
	env := *h.env
	env.Now = func() time.Time { return now }
	s, err := gateway.New(&env)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	return (&harness{srv: srv}).do(t, "GET", path, nil, "")
}

func TestDRPageListsCopiesWithAgeAndState(t *testing.T) {
	h := newDRHarness(t)
	srv := drPageAt(t, h, h.copy.Datetime.Add(3*time.Hour+5*time.Minute))
	code, page := get(t, srv, "/dr")
	if code != http.StatusOK {
		t.Fatalf("GET /dr: status %d: %s", code, page)
	}
	latest := "/dr/failover?copy=latest&amp;vm=" + h.source.UUID
	for _, want := range []string{h.source.NameLabel, h.copy.Name, h.copy.UUID, "3 h ago", `class="state state-completed">standby<`,
		">standby<", "Local storage", `href="` + latest + `"`, `href="/dr">Disaster recovery</a>`, "Snapshots are not backups",
		`data-label="Recovery point"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/dr lacks %q:\n%s", want, page)
		}
	}
	// Once failed over, the list says so.
	if err := h.standby.RemoveFromBlockedOperations(context.Background(), h.copy.Ref, "start"); err != nil {
		t.Fatal(err)
	}
	if _, page = get(t, srv, "/dr"); !strings.Contains(page, ">failed-over<") {
		t.Errorf("/dr after unblocking start lacks the failed-over state:\n%s", page)
	}
}

// confirmForm GETs the confirmation page and returns it with its form's fields.
func confirmForm(t *testing.T, h *drHarness, query string) (string, url.Values) {
	t.Helper()
	code, page := h.do(t, "GET", "/dr/failover?"+query, nil, "")
	if code != http.StatusOK {
		t.Fatalf("GET /dr/failover?%s: status %d: %s", query, code, page)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], m[2])
	}
	return page, form
}

func TestDRConfirmPageNamesTheCopyAndWarnsAboutTheOriginal(t *testing.T) {
	h := newDRHarness(t)
	stamp := h.copy.Datetime.UTC().Format("20060102T150405Z")
	for _, query := range []string{
		url.Values{"vm": {h.source.NameLabel}, "copy": {"latest"}}.Encode(),
		url.Values{"vm": {h.source.UUID}, "copy": {stamp}}.Encode(),
	} {
		page, form := confirmForm(t, h, query)
		for _, want := range []string{h.copy.Name, h.copy.UUID, h.source.NameLabel, "same MAC addresses",
			h.copy.Datetime.UTC().Format("2006-01-02 15:04:05 UTC"), `<form method="post" action="/dr/failover"`,
			`<label for="start">Start it now`, `<button type="submit" id="failover">`, "is Halted on pool main"} {
			if !strings.Contains(page, want) {
				t.Errorf("confirmation (%s) lacks %q:\n%s", query, want, page)
			}
		}
		if form.Get("vm") != h.copy.UUID || form.Get("copy") != xotag.FormatDatetime(h.copy.Datetime) || !gateway.IsFormToken(form.Get("nonce")) {
			t.Errorf("the form does not pin the copy: %v", form)
		}
	}
	// The original runs again: the page says to shut it down first.
	ctx := context.Background()
	src, err := h.env.Pools.Client(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := src.VMByUUID(ctx, h.source.UUID)
	if err == nil {
		err = src.Start(ctx, ref, false, false)
	}
	if err != nil {
		t.Fatal(err)
	}
	page, _ := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	if !strings.Contains(page, "The original VM is Running on pool main.") || !strings.Contains(page, "Shut it down before") {
		t.Errorf("no warning about the running original:\n%s", page)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("showing the confirmation touched the copy: power %s, start blocked %v", power, blocked)
	}
}

func TestDRFailoverFormRefusesCrossSitePosts(t *testing.T) {
	h := newDRHarness(t)
	_, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	form.Set("start", "on")
	crossSite := http.Header{"Content-Type": formHeader["Content-Type"], "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	if code, page := h.do(t, "POST", "/dr/failover", crossSite, form.Encode()); code != http.StatusForbidden {
		t.Fatalf("cross-site failover post: status %d, want 403: %.300s", code, page)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("a refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
}

func TestDRFailoverFormStartsTheCopyOnce(t *testing.T) {
	h := newDRHarness(t)
	_, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}, "copy": {"latest"}}.Encode())
	form.Set("start", "on")
	sameOrigin := http.Header{"Content-Type": formHeader["Content-Type"], "Sec-Fetch-Site": {"same-origin"}}
	// A double click: the same form twice at once fails over once.
	pages := make([]string, 2)
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			code, page := h.do(t, "POST", "/dr/failover", sameOrigin, form.Encode())
			if code != http.StatusOK {
				t.Errorf("submission %d: status %d: %s", i, code, page)
			}
			pages[i] = page
		})
	}
	wg.Wait()
	repeated := 0
	for _, page := range pages {
		for _, want := range []string{h.copy.UUID, "booted", `id="power-state">Running<`, "start unblocked"} {
			if !strings.Contains(page, want) {
				t.Errorf("outcome lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "This form was submitted before") {
			repeated++
		}
	}
	if repeated != 1 {
		t.Errorf("%d of 2 outcomes say they repeat the first, want 1", repeated)
	}
	if power, blocked := h.copyState(t); power != xapi.Running || blocked {
		t.Fatalf("after the failover: power %s, start blocked %v", power, blocked)
	}
	// A new form for the same copy is harmless: it is already running.
	_, again := confirmForm(t, h, url.Values{"vm": {h.source.UUID}}.Encode())
	again.Set("start", "on")
	code, page := h.do(t, "POST", "/dr/failover", formHeader, again.Encode())
	if code != http.StatusOK || !strings.Contains(page, "was already unblocked") || !strings.Contains(page, "not booted by this request") {
		t.Fatalf("second failover: status %d:\n%s", code, page)
	}
}

func TestDRPagesRefuseBadInput(t *testing.T) {
	h := newDRHarness(t)
	_, issued := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	nonce := issued.Get("nonce")
	post := func(vals ...string) string {
		v := url.Values{"nonce": {nonce}, "vm": {h.source.NameLabel}, "copy": {"latest"}}
		for i := 0; i+1 < len(vals); i += 2 {
			v.Set(vals[i], vals[i+1])
		}
		return v.Encode()
	}
	tests := []struct {
		name, method, path, body string
		code                     int
		field                    string
	}{
		{"no vm", "GET", "/dr/failover", "", 400, "vm"},
		{"vm with a control character", "GET", "/dr/failover?vm=web%07", "", 400, "vm"},
		{"vm too long", "GET", "/dr/failover?vm=" + strings.Repeat("v", 129), "", 400, "vm"},
		{"garbage copy", "GET", "/dr/failover?vm=web&copy=yesterday", "", 400, "copy"},
		{"unknown vm", "GET", "/dr/failover?vm=no-such-vm", "", 404, "vm"},
		{"no copy at that time", "GET", "/dr/failover?vm=" + url.QueryEscape(h.source.NameLabel) + "&copy=20200101T000000Z", "", 404, "copy"},
		{"no nonce", "POST", "/dr/failover", post("nonce", ""), 400, "nonce"},
		{"odd nonce", "POST", "/dr/failover", post("nonce", strings.Repeat("Z", 32)), 400, "nonce"},
		{"empty vm", "POST", "/dr/failover", post("vm", " "), 400, "vm"},
		{"garbage copy posted", "POST", "/dr/failover", post("copy", "2024-13-01"), 400, "copy"},
		{"start not on", "POST", "/dr/failover", post("start", "yes"), 400, "start"},
		{"unknown vm posted", "POST", "/dr/failover", post("vm", "no-such-vm", "start", "on"), 404, "vm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, page := h.do(t, tc.method, tc.path, formHeader, tc.body)
			if code != tc.code || !strings.Contains(page, fmt.Sprintf(`data-field="%s"`, tc.field)) || !strings.Contains(page, `href="/dr"`) {
				t.Fatalf("status %d, want %d naming %q:\n%.600s", code, tc.code, tc.field, page)
			}
		})
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("refused requests touched the copy: power %s, start blocked %v", power, blocked)
	}
}

func TestAgeInWords(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "in the future"},
		{0, "just now"},
		{45 * time.Second, "45 s ago"},
		{12*time.Minute + 59*time.Second, "12 min ago"},
		{3*time.Hour + 5*time.Minute, "3 h ago"},
		{47 * time.Hour, "47 h ago"},
		{5*24*time.Hour + time.Hour, "5 days ago"},
	} {
		if got := gateway.AgeInWords(tc.d); got != tc.want {
			t.Errorf("AgeInWords(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// The failover form is outside input: garbage is a *FieldError naming a
// field; what is accepted is a valid vm, nonce and copy.
func FuzzParseFailoverForm(f *testing.F) {
	tok := "1714528813." + strings.Repeat("0a", 16) + "." + strings.Repeat("0b", 32)
	for _, s := range []string{"nonce=" + tok + "&vm=web&copy=latest&start=on",
		"nonce=" + tok + "&vm=web&copy=20240501T02:00:13Z", "vm=web", "nonce=x&vm=%00",
		"nonce=" + tok + "&vm=a%0Ab", "nonce=" + tok + "&vm=web&start=1", "nonce=" + strings.Repeat("0a", 16) + "&vm=web"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		req, nonce, err := gateway.ParseFailoverForm(form)
		if err != nil {
			var fe *gateway.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v is not a FieldError naming a field", err)
			}
			return
		}
		if !gateway.IsFormToken(nonce) || strings.TrimSpace(req.VM) == "" || len(req.VM) > 128 {
			t.Fatalf("accepted nonce %q, vm %q", nonce, req.VM)
		}
		if at, err := gateway.ParseCopySelector(req.Copy); err != nil || !at.Equal(req.At) {
			t.Fatalf("copy %q read as %v, then %v, %v", req.Copy, req.At, at, err)
		}
	})
}

// Finding 10 on the page: while the original VM runs the form is refused
// (409, the copy untouched, the way back to the confirmation) unless its
// force box is ticked.
func TestDRFailoverFormRefusedWhileTheSourceRuns(t *testing.T) {
	h := newDRHarness(t)
	if err := h.sim.SetPowerState(string(h.sourceRef), "Running"); err != nil {
		t.Fatal(err)
	}
	confirm, form := confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	for _, want := range []string{`id="source-warning"`, `<input id="force" name="force" type="checkbox">`} {
		if !strings.Contains(confirm, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, confirm)
		}
	}
	form.Set("start", "on")
	code, page := h.do(t, "POST", "/dr/failover", formHeader, form.Encode())
	if code != http.StatusConflict || !strings.Contains(page, "source VM "+h.source.NameLabel+" is still running on pool main") ||
		!strings.Contains(page, `id="back-to-confirm"`) {
		t.Fatalf("failover while the source runs: status %d:\n%s", code, page)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("a refused failover touched the copy: power %s, start blocked %v", power, blocked)
	}
	_, form = confirmForm(t, h, url.Values{"vm": {h.source.NameLabel}}.Encode())
	form.Set("start", "on")
	form.Set("force", "on")
	code, page = h.do(t, "POST", "/dr/failover", formHeader, form.Encode())
	if code != http.StatusOK || !strings.Contains(page, `id="power-state">Running<`) || !strings.Contains(page, "(forced)") ||
		!strings.Contains(page, "by web") {
		t.Fatalf("forced failover: status %d:\n%s", code, page)
	}
}
