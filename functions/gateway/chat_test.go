package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/bus"
	"xbr/shared/restoreclient"
)

func slackHeaders(secret string, ts time.Time, body string) http.Header {
	return http.Header{
		gateway.HeaderSlackTimestamp: {fmt.Sprint(ts.Unix())},
		gateway.HeaderSlackSignature: {gateway.SignSlack(secret, ts, []byte(body))},
		"Content-Type":               {"application/x-www-form-urlencoded"},
	}
}

func slackBody(text string) string {
	return url.Values{"command": {"/xbr"}, "text": {text}, "user_name": {"alice"}, "team_domain": {"acme"}}.Encode()
}

func (h *harness) slack(t *testing.T, text string) gateway.ChatReply {
	t.Helper()
	body := slackBody(text)
	code, out := h.do(t, "POST", "/v1/chat/slack", slackHeaders(slackSecret, time.Now(), body), body)
	if code != http.StatusOK {
		t.Fatalf("slack %q: status %d: %s", text, code, out)
	}
	return decode[gateway.ChatReply](t, out)
}

func TestSlackSignature(t *testing.T) {
	h := newHarness(t)
	body := slackBody("restore " + h.vm.UUID)
	now := time.Now()
	for name, hd := range map[string]http.Header{
		"none":           {"Content-Type": {"application/x-www-form-urlencoded"}},
		"wrong secret":   slackHeaders("wrong", now, body),
		"6 minutes old":  slackHeaders(slackSecret, now.Add(-6*time.Minute), body),
		"6 minutes late": slackHeaders(slackSecret, now.Add(6*time.Minute), body),
		"webhook scheme": signed(slackSecret, now, body),
	} {
		t.Run(name, func(t *testing.T) {
			if code, out := h.do(t, "POST", "/v1/chat/slack", hd, body); code != http.StatusUnauthorized {
				t.Fatalf("status %d (%s), want 401", code, out)
			}
		})
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested by unauthenticated commands", n)
	}
}

func TestSlackCommands(t *testing.T) {
	h := newHarness(t)

	r := h.slack(t, "help")
	if r.ResponseType != "ephemeral" || !strings.Contains(r.Text, "restore &lt;vm&gt;") { // Slack: &, < and > escaped
		t.Fatalf("help: %+v", r)
	}
	r = h.slack(t, "backups "+h.vm.NameLabel)
	if r.ResponseType != "ephemeral" || !strings.Contains(r.Text, h.backup.String()) || !strings.Contains(r.Text, "gzip") {
		t.Fatalf("backups: %+v", r)
	}
	r = h.slack(t, "frobnicate now")
	if !strings.Contains(r.Text, `"frobnicate"`) || !strings.Contains(r.Text, "Commands:") {
		t.Fatalf("unknown command: %+v", r)
	}
	r = h.slack(t, "restore no-such-vm")
	if r.ResponseType != "ephemeral" || !strings.Contains(r.Text, "no-such-vm") {
		t.Fatalf("restore of an unknown VM: %+v", r)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested before any restore command", n)
	}

	r = h.slack(t, `restore "`+h.vm.NameLabel+`" latest start`)
	id := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(r.Text)
	if r.ResponseType != "in_channel" || id == nil {
		t.Fatalf("restore: %+v", r)
	}
	st := lookup(t, h, id[1])
	if st.BackupID != h.backup.String() || !st.Start || st.RequestedBy != "slack:alice" {
		t.Fatalf("requested %+v", st)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restores requested, want 1", n)
	}

	r = h.slack(t, `healthcheck "`+h.vm.NameLabel+`" sr="Local storage"`)
	if r.ResponseType != "in_channel" || !regexp.MustCompile("Health check `hc-[0-9a-f]+` requested by slack:alice").MatchString(r.Text) {
		t.Fatalf("healthcheck: %+v", r)
	}
	if n := h.count(t, events.TypeHealthCheckRequested); n != 1 {
		t.Fatalf("%d health checks requested, want 1", n)
	}

	r = h.slack(t, "status "+id[1])
	if r.ResponseType != "ephemeral" || !strings.Contains(r.Text, "*pending*") {
		t.Fatalf("status: %+v", r)
	}
	r = h.slack(t, "status nope-never")
	if !strings.Contains(r.Text, "Sorry") {
		t.Fatalf("status of an unknown id: %+v", r)
	}

	r = h.slack(t, "run nightly")
	if r.ResponseType != "in_channel" || !strings.Contains(r.Text, "job nightly (schedule daily)") {
		t.Fatalf("run: %+v", r)
	}
	due := lastScheduleDue(t, h)
	if due.Job != "nightly" || due.Schedule != "daily" || due.Mode != "full" || !due.Manual || due.RequestedBy != "slack:alice" || !strings.Contains(r.Text, due.RunID) {
		t.Fatalf("schedule.due %+v (reply %q)", due, r.Text)
	}
	r = h.slack(t, "run weekly")
	if n := h.count(t, events.TypeScheduleDue); !strings.Contains(r.Text, `"weekly"`) || n != 1 {
		t.Fatalf("run of an unknown job: %+v, %d schedule.due stored", r, n)
	}
}

// A mistyped command is answered with the closest command, not the help.
func TestChatTypoSuggestsTheCommand(t *testing.T) {
	h := newHarness(t)
	for typo, want := range map[string]string{"restre vm-01": "restore", "Backup vm-01": "backups", "stauts x": "status", "helthcheck": "healthcheck"} {
		r := h.slack(t, typo)
		verb := strings.Fields(typo)[0]
		if r.Text != `Sorry: unknown command "`+verb+`"; did you mean "`+want+`"?` || r.ResponseType != "ephemeral" {
			t.Errorf("typo %q: %+v", typo, r)
		}
	}
}

func lastScheduleDue(t *testing.T, h *harness) events.ScheduleDue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := h.env.Conn.Watch(ctx, bus.WatchOptions{Subjects: []string{h.env.Subjects.Filter(events.TypeScheduleDue)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rec, err := w.Next(ctx)
	if err != nil || rec.Err != nil {
		t.Fatalf("read schedule.due: %v %v", err, rec.Err)
	}
	p, err := events.PayloadAs[events.ScheduleDue](rec.Event)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMattermostToken(t *testing.T) {
	h := newHarness(t)
	form := func(token, text string) string {
		return url.Values{"token": {token}, "text": {text}, "user_name": {"bob"}}.Encode()
	}
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for name, body := range map[string]string{
		"no token":    url.Values{"text": {"restore " + h.vm.UUID}}.Encode(),
		"wrong token": form("nope", "restore "+h.vm.UUID),
		"prefix":      form(mmToken[:5], "restore "+h.vm.UUID),
	} {
		t.Run(name, func(t *testing.T) {
			if code, out := h.do(t, "POST", "/v1/chat/mattermost", hd, body); code != http.StatusUnauthorized {
				t.Fatalf("status %d (%s), want 401", code, out)
			}
		})
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restores requested with a wrong token", n)
	}
	code, out := h.do(t, "POST", "/v1/chat/mattermost", hd, form(mmToken, "restore "+h.vm.UUID))
	r := decode[gateway.ChatReply](t, out)
	if code != http.StatusOK || r.ResponseType != "in_channel" {
		t.Fatalf("status %d: %+v", code, r)
	}
	id := regexp.MustCompile("Restore `([0-9a-f]+)`").FindStringSubmatch(r.Text)
	if id == nil {
		t.Fatalf("no request id in %q", r.Text)
	}
	if st := lookup(t, h, id[1]); st.State != restoreclient.StatePending || st.RequestedBy != "mattermost:bob" {
		t.Fatalf("requested %+v", st)
	}
}

// Mattermost sends no timestamp: two health check commands of one backup
// (by two people, or the same person again) are two requests, each
// published under its own id, not one id that JetStream drops the second
// of while the reply says it was requested.
func TestMattermostHealthChecksAreDistinct(t *testing.T) {
	h := newHarness(t)
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	idOf := regexp.MustCompile("Health check `(hc-[0-9a-f]+)` requested by mattermost:")
	var ids []string
	for _, user := range []string{"bob", "carol"} {
		body := url.Values{"token": {mmToken}, "text": {`healthcheck ` + h.vm.UUID + ` sr="Local storage"`}, "user_name": {user}}.Encode()
		code, out := h.do(t, "POST", "/v1/chat/mattermost", hd, body)
		m := idOf.FindStringSubmatch(decode[gateway.ChatReply](t, out).Text)
		if code != http.StatusOK || m == nil {
			t.Fatalf("%s: status %d: %s", user, code, out)
		}
		ids = append(ids, m[1])
	}
	if n := h.count(t, events.TypeHealthCheckRequested); ids[0] == ids[1] || n != 2 {
		t.Fatalf("two health check commands: ids %v, %d published, want two", ids, n)
	}
}
