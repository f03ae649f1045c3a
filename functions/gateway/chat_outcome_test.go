package gateway_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/config"
	"xbr/shared/testsupport"
)

// chatStandIn is a loopback HTTP server standing in for Slack's
// response_url: it records every JSON reply POSTed to it.
type chatStandIn struct {
	*httptest.Server
	replies chan gateway.ChatReply
}

// newChatStandIn starts the stand-in; the gateway of cfg may post to it
// (gateway.chat_response_hosts), unless cfg is nil.
func newChatStandIn(t *testing.T, cfg *config.Config) *chatStandIn {
	t.Helper()
	c := &chatStandIn{replies: make(chan gateway.ChatReply, 4)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reply gateway.ChatReply
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &reply) != nil {
			t.Errorf("the chat got %s %s %q", r.Method, r.Header.Get("Content-Type"), body)
		}
		c.replies <- reply
	}))
	t.Cleanup(c.Close)
	if cfg != nil {
		u, _ := url.Parse(c.URL)
		cfg.Gateway.ChatResponseHosts = append(cfg.Gateway.ChatResponseHosts, u.Host)
	}
	return c
}

func (c *chatStandIn) next(t *testing.T) gateway.ChatReply {
	t.Helper()
	select {
	case r := <-c.replies:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome was posted to the chat")
		return gateway.ChatReply{}
	}
}

// A chat restore posts its outcome (completed or failed) to the command's
// response_url when it ends; the URL's token never reaches the logs.
func TestChatRestorePostsItsOutcome(t *testing.T) {
	h := newHarness(t)
	var logs testsupport.SyncBuffer
	env := *h.env
	env.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := gateway.New(&env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	chat := newChatStandIn(t, env.Config)
	const token = "T0001/B0002/s3cr3t-t0ken"
	slack := func(text, responseURL string) gateway.ChatReply {
		body := url.Values{"command": {"/xbr"}, "text": {text}, "user_name": {"alice"}, "response_url": {responseURL}}.Encode()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/slack", strings.NewReader(body))
		req.Header = slackHeaders(slackSecret, time.Now(), body)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return decode[gateway.ChatReply](t, string(out))
	}
	requested := regexp.MustCompile("Restore `([0-9a-f]+)` requested")

	r := slack("restore "+h.vm.UUID, chat.URL+"/commands/"+token)
	id := requested.FindStringSubmatch(r.Text)
	if id == nil || !strings.Contains(r.Text, "Its outcome will be posted here when it ends.") {
		t.Fatalf("restore: %+v", r)
	}
	h.publish(t, "done-"+id[1], events.RestoreCompleted{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		NewVMUUID: "5d1a0c5e-8f3b-4c6d-9e2f-7a8b9c0d1e2f", NewVMName: "restored web", Bytes: 4096, DurationMS: 1500}, time.Now())
	got := chat.next(t)
	if got.ResponseType != "in_channel" || !strings.Contains(got.Text, "Restore `"+id[1]+"`: *completed*") ||
		!strings.Contains(got.Text, `New VM "restored web" (5d1a0c5e-8f3b-4c6d-9e2f-7a8b9c0d1e2f)`) {
		t.Fatalf("posted outcome: %+v", got)
	}

	r = slack("restore "+h.vm.NameLabel+" start", chat.URL+"/commands/"+token)
	id = requested.FindStringSubmatch(r.Text)
	if id == nil {
		t.Fatalf("second restore: %+v", r)
	}
	h.publish(t, "failed-"+id[1], events.RestoreFailed{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		Error: "pool lab: no space left on SR"}, time.Now())
	if got := chat.next(t); !strings.Contains(got.Text, "*failed*") || !strings.Contains(got.Text, "Error: pool lab: no space left on SR") {
		t.Fatalf("posted failure: %+v", got)
	}
	s.Close() // waits for the watches, which log after posting
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Fatalf("the response_url's token reached the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "chat restore outcome posted") {
		t.Fatalf("the posted outcome was not logged:\n%s", logs.String())
	}
}

// A response_url that is not an absolute http(s) URL without a login is
// refused before anything is requested, without quoting it.
func TestChatRefusesBadResponseURLs(t *testing.T) {
	h := newHarness(t)
	const token = "T0001/B0002/s3cr3t-t0ken"
	n := h.count(t, events.TypeRestoreRequested)
	for _, bad := range []string{"file:///etc/passwd", "gopher://chat.example/x", "/relative/" + token, "https://user:pw@chat.example/x"} {
		body := url.Values{"command": {"/xbr"}, "text": {"restore " + h.vm.UUID}, "user_name": {"alice"}, "response_url": {bad}}.Encode()
		_, out := h.do(t, "POST", "/v1/chat/slack", slackHeaders(slackSecret, time.Now(), body), body)
		r := decode[gateway.ChatReply](t, out)
		if !strings.HasPrefix(r.Text, "Sorry: response_url") || strings.Contains(r.Text, "s3cr3t") || strings.Contains(r.Text, "pw@") {
			t.Errorf("response_url %q: %+v", bad, r)
		}
	}
	if h.count(t, events.TypeRestoreRequested) != n {
		t.Fatal("a restore with a refused response_url was requested")
	}
}

// Mattermost's slash commands carry a response_url too: the outcome goes
// back the same way.
func TestMattermostRestorePostsItsOutcome(t *testing.T) {
	h := newHarness(t)
	chat := newChatStandIn(t, h.env.Config)
	body := url.Values{"token": {mmToken}, "text": {"restore " + h.vm.UUID}, "user_name": {"bob"},
		"response_url": {chat.URL + "/hooks/commands/abc123"}}.Encode()
	code, out := h.do(t, "POST", "/v1/chat/mattermost", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body)
	id := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(out)
	if code != http.StatusOK || id == nil {
		t.Fatalf("status %d: %s", code, out)
	}
	h.publish(t, "failed-"+id[1], events.RestoreFailed{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		Error: "pool lab is unreachable"}, time.Now())
	if got := chat.next(t); got.ResponseType != "in_channel" || !strings.Contains(got.Text, "Error: pool lab is unreachable") {
		t.Fatalf("posted outcome: %+v", got)
	}
}

// A response_url on a host gateway.chat_response_hosts does not list gets
// nothing posted: the restore runs, and the reply says why no outcome
// follows (so a chat secret cannot make the gateway POST anywhere).
func TestChatPostsOnlyToListedHosts(t *testing.T) {
	h := newHarness(t)
	chat := newChatStandIn(t, nil)
	body := url.Values{"token": {mmToken}, "text": {"restore " + h.vm.UUID}, "user_name": {"bob"},
		"response_url": {chat.URL + "/hooks/commands/abc123"}}.Encode()
	code, out := h.do(t, "POST", "/v1/chat/mattermost", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body)
	id := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(out)
	if code != http.StatusOK || id == nil || !strings.Contains(out, "is not in gateway.chat_response_hosts") {
		t.Fatalf("status %d: %s", code, out)
	}
	h.publish(t, "failed-"+id[1], events.RestoreFailed{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		Error: "pool lab is unreachable"}, time.Now())
	h.server.Close() // waits for every outcome watch: none was started
	select {
	case r := <-chat.replies:
		t.Fatalf("posted to a host not listed: %+v", r)
	default:
	}
}

// Names reach the chat from XAPI and the remotes, so anyone who can name a
// VM writes them: Slack's control characters (&, <, >) in them are escaped
// in the replies and in the posted outcome, so a name cannot mention
// @channel or show a disguised link in the channel (Slack decodes the
// escapes for display).
func TestSlackRepliesEscapeNames(t *testing.T) {
	h := newHarness(t)
	chat := newChatStandIn(t, h.env.Config)
	const evil = `<!channel> & <https://evil.example/login|sign in again>`
	const escaped = `&lt;!channel&gt; &amp; &lt;https://evil.example/login|sign in again&gt;`
	vm := h.vm
	vm.NameLabel = evil // the newest backup's metadata names the VM so
	makeBackup(t, h.env, h.sim, vm, "nfs", h.backup.Time.Add(time.Hour))
	slack := func(text, responseURL string) gateway.ChatReply {
		t.Helper()
		body := url.Values{"command": {"/xbr"}, "text": {text}, "user_name": {"alice"}, "response_url": {responseURL}}.Encode()
		code, out := h.do(t, "POST", "/v1/chat/slack", slackHeaders(slackSecret, time.Now(), body), body)
		if code != http.StatusOK {
			t.Fatalf("slack %q: status %d: %s", text, code, out)
		}
		return decode[gateway.ChatReply](t, out)
	}
	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, "<") || strings.Contains(text, ">") || !strings.Contains(text, escaped) {
			t.Errorf("%s: Slack's control characters are not escaped:\n%s", what, text)
		}
	}
	check("backups", slack("backups "+h.vm.UUID, "").Text)
	r := slack("restore "+h.vm.UUID, chat.URL+"/commands/T1/B2/x")
	check("restore", r.Text)
	id := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(r.Text)
	if id == nil {
		t.Fatalf("restore: %+v", r)
	}
	h.publish(t, "done-"+id[1], events.RestoreCompleted{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		NewVMUUID: "5d1a0c5e-8f3b-4c6d-9e2f-7a8b9c0d1e2f", NewVMName: evil, Bytes: 4096, DurationMS: 1500}, time.Now())
	check("posted outcome", chat.next(t).Text)
	if help := slack("help", "").Text; !strings.Contains(help, "restore &lt;vm&gt;") {
		t.Errorf("help: the placeholders are not escaped:\n%s", help)
	}
}

// Mattermost reads the replies as markdown and finds mentions in them: a
// VM name cannot notify the channel (@channel, @here, @all or a user) nor
// show a disguised link or load an image, in the reply or in the posted
// outcome; the name still reads the same.
func TestMattermostRepliesDefuseNames(t *testing.T) {
	h := newHarness(t)
	chat := newChatStandIn(t, h.env.Config)
	const evil = `@channel @here [sign in again](https://evil.example/login) ![x](https://evil.example/p.png)`
	vm := h.vm
	vm.NameLabel = evil
	makeBackup(t, h.env, h.sim, vm, "nfs", h.backup.Time.Add(time.Hour))
	mattermost := func(text, responseURL string) gateway.ChatReply {
		t.Helper()
		body := url.Values{"token": {mmToken}, "text": {text}, "user_name": {"bob"}, "response_url": {responseURL}}.Encode()
		code, out := h.do(t, "POST", "/v1/chat/mattermost", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body)
		if code != http.StatusOK {
			t.Fatalf("mattermost %q: status %d: %s", text, code, out)
		}
		return decode[gateway.ChatReply](t, out)
	}
	mention := regexp.MustCompile(`@[\pL\pN]`)
	check := func(what, text string) {
		t.Helper()
		if m := mention.FindString(text); m != "" || strings.Contains(text, "](") {
			t.Errorf("%s: a name mentions or links in Mattermost's markdown:\n%s", what, text)
		}
		if !strings.Contains(strings.ReplaceAll(text, "\u200b", ""), evil) {
			t.Errorf("%s: the name does not read as itself:\n%s", what, text)
		}
	}
	check("backups", mattermost("backups "+h.vm.UUID, "").Text)
	r := mattermost("restore "+h.vm.UUID, chat.URL+"/hooks/commands/abc123")
	check("restore", r.Text)
	id := regexp.MustCompile("Restore `([0-9a-f]+)` requested").FindStringSubmatch(r.Text)
	if id == nil {
		t.Fatalf("restore: %+v", r)
	}
	h.publish(t, "done-"+id[1], events.RestoreCompleted{RequestID: id[1], BackupID: h.backup.String(), Pool: "lab",
		NewVMUUID: "5d1a0c5e-8f3b-4c6d-9e2f-7a8b9c0d1e2f", NewVMName: evil, Bytes: 4096, DurationMS: 1500}, time.Now())
	check("posted outcome", chat.next(t).Text)
}
