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
	"xbr/functions/replicate"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// Every door resolves a VM name alike: a name two VMs share is refused with
// the same list of matches (uuid in pool), a name no backup carries is 404.
func TestEveryDoorResolvesVMNamesAlike(t *testing.T) {
	h := newHarness(t)
	twin := h.vm
	twin.UUID = "0f0e0d0c-0b0a-4909-8807-060504030201"
	makeBackup(t, h.env, h.sim, twin, "nfs", time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC))
	first, second := h.vm.UUID, twin.UUID
	if second < first {
		first, second = second, first
	}
	ambiguous := `vm "` + h.vm.NameLabel + `": names 2 VMs (` + first + ` in pool lab, ` + second + ` in pool lab): give the uuid`
	const unknown = `vm "ghost": no VM of that name has a backup`

	for body, want := range map[string]struct {
		code int
		text string
	}{
		`{"vm": "` + h.vm.NameLabel + `"}`: {http.StatusBadRequest, ambiguous},
		`{"vm": "ghost"}`:                  {http.StatusNotFound, unknown},
	} {
		code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
		if code != want.code || decode[apiErr](t, out).Error != want.text {
			t.Errorf("webhook %s: %d %s, want %d %s", body, code, out, want.code, want.text)
		}
	}
	for text, want := range map[string]string{
		`restore "` + h.vm.NameLabel + `"`: ambiguous,
		`backups "` + h.vm.NameLabel + `"`: ambiguous,
		`restore ghost`:                    unknown,
		`backups ghost`:                    unknown,
	} {
		if r := h.slack(t, text); r.Text != "Sorry: "+want {
			t.Errorf("chat %s: %q, want %q", text, r.Text, "Sorry: "+want)
		}
	}
	for vm, want := range map[string]int{h.vm.NameLabel: http.StatusBadRequest, "ghost": http.StatusNotFound} {
		code, page := h.do(t, "GET", "/restore?"+url.Values{"remote": {"nfs"}, "vm": {vm}}.Encode(), nil, "")
		text := ambiguous
		if vm == "ghost" {
			text = unknown
		}
		if code != want || !strings.Contains(page, strings.ReplaceAll(text, `"`, "&#34;")) {
			t.Errorf("web page, vm %q: %d, want %d and %s:\n%.2000s", vm, code, want, text, page)
		}
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested for ambiguous or unknown VMs", n)
	}
	if r := h.slack(t, "backups "+twin.UUID); !strings.Contains(r.Text, "1 backup(s) of "+h.vm.NameLabel+" ("+twin.UUID+")") {
		t.Fatalf("backups by uuid: %q", r.Text)
	}
}

// A restore whose VM name another VM of the pool has is accepted with a
// warning and a distinct name, on every door.
func TestRestoreToATakenNameWarns(t *testing.T) {
	h := newHarness(t)
	taken := h.vm.NameLabel + " (" + h.backup.Timestamp() + ")" // the default name of a restore of h.backup
	ctx := context.Background()
	c, err := h.env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetNameLabel(ctx, xapi.VMRef(h.vm.Ref), taken); err != nil {
		t.Fatal(err)
	}
	warning := `VM ` + h.vm.UUID + ` in pool lab is already named "` + taken + `": the new VM is named "` + taken + ` (2)"`

	body := `{"backup_id": "` + h.backup.String() + `"}`
	code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	a := decode[struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Warnings []string `json:"warnings"`
	}](t, out)
	if code != http.StatusAccepted || a.Name != taken+" (2)" || len(a.Warnings) != 1 || a.Warnings[0] != warning {
		t.Fatalf("webhook: %d %s", code, out)
	}
	if st := lookup(t, h, a.ID); st.Name != taken+" (2)" {
		t.Fatalf("the request names the VM %q", st.Name)
	}

	r := h.slack(t, "restore "+h.vm.UUID)
	if !strings.Contains(r.Text, "\nWarning: "+warning) {
		t.Fatalf("chat: %q", r.Text)
	}

	_, page := h.do(t, "GET", "/restore?backup="+url.QueryEscape(h.backup.String()), nil, "")
	nonce := regexp.MustCompile(`name="nonce" value="([0-9a-f.]+)"`).FindStringSubmatch(page)
	if nonce == nil {
		t.Fatalf("no nonce in the form:\n%s", page)
	}
	form := url.Values{"backup": {h.backup.String()}, "pool": {"lab"}, "nonce": {nonce[1]}}.Encode()
	h.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", h.srv.URL+"/restore", strings.NewReader(form))
	req.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "?renamed=1") {
		t.Fatalf("web page: status %d, Location %q", resp.StatusCode, loc)
	}
	if _, status := h.do(t, "GET", loc, nil, ""); !strings.Contains(status, "the new VM is named “"+taken+" (2)”") {
		t.Fatalf("the status page does not say the VM was renamed:\n%s", status)
	}
}

// A failover by a name two source VMs' copies carry is refused on the
// webhook and in chat (its posted outcome) with the same ambiguity error,
// and fails over nothing.
func TestFailoverRefusesANameTwoVMsShare(t *testing.T) {
	h := newDRHarness(t)
	ctx := context.Background()
	src, err := h.env.Pools.Client(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	var twin xapisim.VMInfo
	for _, vm := range h.sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate && vm.UUID != h.source.UUID && !strings.HasPrefix(vm.NameLabel, "Control domain") {
			twin = vm
		}
	}
	if twin.UUID == "" {
		t.Fatal("the main pool has no second VM")
	}
	if err := src.SetNameLabel(ctx, xapi.VMRef(twin.Ref), h.source.NameLabel); err != nil {
		t.Fatal(err)
	}
	spec := replicate.Spec{Job: "dr", Schedule: "hourly", VMUUID: twin.UUID, TargetSR: "Local storage", CopyRetention: 1}
	if _, err := replicate.Replicate(ctx, src, h.standby, spec, replicate.Options{}); err != nil {
		t.Fatal(err)
	}
	first, second := h.source.UUID, twin.UUID
	if second < first {
		first, second = second, first
	}
	want := `vm "` + h.source.NameLabel + `": names 2 VMs (` + first + `, ` + second + `): give the uuid`

	body := `{"vm": "` + h.source.NameLabel + `", "start": true}`
	code, out := h.do(t, "POST", "/v1/failovers", signedFor(webhookSecret, time.Now(), "POST", "/v1/failovers", body), body)
	if e := decode[apiErr](t, out); code != http.StatusBadRequest || e.Error != want || e.Field != "vm" {
		t.Fatalf("webhook: %d %s, want 400 %s", code, out, want)
	}
	chat := newChatStandIn(t, h.env.Config)
	requested(t, h.slackTo(t, `failover "`+h.source.NameLabel+`" start`, chat.URL+"/commands/"+chatToken))
	if r := chat.next(t); !strings.Contains(r.Text, " failed: "+want) {
		t.Fatalf("chat: posted %q, want %s", r.Text, want)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("the copy was failed over: power %s, start blocked %v", power, blocked)
	}
}
