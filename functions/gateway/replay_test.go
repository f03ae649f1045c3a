package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/xapi"
)

// Finding 3: a signature is bound to the method and the path it was made for.
func TestWebhookSignatureIsBoundToTheEndpoint(t *testing.T) {
	h := newDRHarness(t)
	body := fmt.Sprintf(`{"vm": %q, "start": true}`, h.source.NameLabel)
	hd := signedFor(webhookSecret, time.Now(), "POST", "/v1/restores", body)
	code, out := h.do(t, "POST", "/v1/failovers", hd, body)
	if code != http.StatusUnauthorized {
		t.Fatalf("a restore's signature replayed to /v1/failovers: status %d (%s), want 401", code, out)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("the replayed request touched the copy: power %s, start blocked %v", power, blocked)
	}
	q := signedFor(webhookSecret, time.Now(), "GET", "/v1/restores/abc?x=1", "")
	if code, out := h.do(t, "GET", "/v1/restores/abc?x=2", q, ""); code != http.StatusUnauthorized {
		t.Fatalf("a signature for another query: status %d (%s), want 401", code, out)
	}
}

// Finding 4: the timestamp is plain digits, and one signature is one request,
// on every gateway of the bus.
func TestWebhookTimestampMustBePlainDigits(t *testing.T) {
	h := newHarness(t)
	body := fmt.Sprintf(`{"backup_id": %q, "pool": "lab"}`, h.backup)
	now := time.Now()
	hd := signedFor(webhookSecret, now, "POST", "/v1/restores", body)
	for _, v := range []string{"+T", "0T", "00T", "+0T", "-T", "T.0", "0x1"} { // HTTP trims spaces itself
		t.Run(v, func(t *testing.T) {
			bad := hd.Clone()
			bad.Set(gateway.HeaderTimestamp, replaceT(v, now))
			if code, out := h.do(t, "POST", "/v1/restores", bad, body); code != http.StatusUnauthorized {
				t.Fatalf("timestamp %q: status %d (%s), want 401", bad.Get(gateway.HeaderTimestamp), code, out)
			}
		})
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores from timestamps that are not plain digits", n)
	}
}

func replaceT(pattern string, now time.Time) string {
	out := ""
	for _, c := range pattern {
		if c == 'T' {
			out += fmt.Sprint(now.Unix())
		} else {
			out += string(c)
		}
	}
	return out
}

func TestWebhookSignatureIsAcceptedOnceOnEveryGateway(t *testing.T) {
	h := newHarness(t)
	body := fmt.Sprintf(`{"backup_id": %q, "pool": "lab"}`, h.backup)
	hd := signedFor(webhookSecret, time.Now(), "POST", "/v1/restores", body)
	if code, out := h.do(t, "POST", "/v1/restores", hd, body); code != http.StatusAccepted {
		t.Fatalf("first delivery: status %d: %s", code, out)
	}
	if code, out := h.do(t, "POST", "/v1/restores", hd, body); code != http.StatusUnauthorized {
		t.Fatalf("replay to the same gateway: status %d (%s), want 401", code, out)
	}
	second := secondGateway(t, h)
	if code, out := doAt(t, second, "POST", "/v1/restores", hd, body); code != http.StatusUnauthorized {
		t.Fatalf("replay to a second gateway on the same bus: status %d (%s), want 401", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restores from one signed request, want 1", n)
	}
}

func TestSlackCommandIsAcceptedOnce(t *testing.T) {
	h := newHarness(t)
	body := slackBody("restore " + h.vm.UUID)
	now := time.Now()
	hd := slackHeaders(slackSecret, now, body)
	codes := []int{}
	for _, v := range []string{"T", "T", "T", "+T", "0T"} { // 3 identical posts, then 2 respellings
		x := hd.Clone()
		x.Set(gateway.HeaderSlackTimestamp, replaceT(v, now))
		code, _ := h.do(t, "POST", "/v1/chat/slack", x, body)
		codes = append(codes, code)
	}
	if codes[0] != http.StatusOK {
		t.Fatalf("first command: status %d", codes[0])
	}
	for i, c := range codes[1:] {
		if c != http.StatusUnauthorized {
			t.Errorf("repeat %d: status %d, want 401", i+1, c)
		}
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restores from one signed Slack command, want 1", n)
	}
}

func TestMattermostRepeatIsRefused(t *testing.T) {
	h := newHarness(t)
	body := url.Values{"token": {mmToken}, "text": {"restore " + h.vm.UUID}, "user_name": {"bob"}}.Encode()
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if code, out := h.do(t, "POST", "/v1/chat/mattermost", hd, body); code != http.StatusOK {
		t.Fatalf("first command: status %d: %s", code, out)
	}
	if code, out := doAt(t, secondGateway(t, h), "POST", "/v1/chat/mattermost", hd, body); code != http.StatusUnauthorized {
		t.Fatalf("the same command again: status %d (%s), want 401", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restores from one Mattermost command, want 1", n)
	}
}

// secondGateway is another gateway replica on h's bus.
func secondGateway(t *testing.T, h *harness) *httptest.Server {
	t.Helper()
	s, err := gateway.New(h.env)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func doAt(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	return (&harness{srv: srv}).do(t, method, path, header, body)
}

// Finding 8 at the chat doors: a field given twice is refused, not read
// first-wins.
func TestChatRefusesRepeatedFields(t *testing.T) {
	h := newHarness(t)
	body := slackBody("backups "+h.vm.UUID) + "&text=" + url.QueryEscape("restore "+h.vm.UUID)
	code, out := h.do(t, "POST", "/v1/chat/slack", slackHeaders(slackSecret, time.Now(), body), body)
	if code != http.StatusBadRequest {
		t.Fatalf("slack with text twice: status %d (%s), want 400", code, out)
	}
	mm := url.Values{"token": {mmToken, "x"}, "text": {"restore " + h.vm.UUID}}.Encode()
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if code, out := h.do(t, "POST", "/v1/chat/mattermost", hd, mm); code != http.StatusBadRequest {
		t.Fatalf("mattermost with token twice: status %d (%s), want 400", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores from ambiguous commands", n)
	}
}
