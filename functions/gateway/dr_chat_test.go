package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xbr/functions/gateway"
	"xbr/shared/failovers"
	"xbr/shared/xapi"
)

// chatToken is the secret part of the response_urls in these tests: it
// must never reach the logs.
const chatToken = "T0001/B0002/s3cr3t-t0ken"

// requestedFailover reads the id out of a chat failover's immediate reply.
var requestedFailover = regexp.MustCompile("^Failover `([\\w-]+)` of .* requested by ")

// slackTo sends text as a Slack slash command whose response_url is
// responseURL ("" for none) and returns the immediate reply.
func (h *drHarness) slackTo(t *testing.T, text, responseURL string) gateway.ChatReply {
	t.Helper()
	form := url.Values{"command": {"/xbr"}, "text": {text}, "user_name": {"alice"}}
	if responseURL != "" {
		form.Set("response_url", responseURL)
	}
	body := form.Encode()
	code, out := h.do(t, "POST", "/v1/chat/slack", slackHeaders(slackSecret, time.Now(), body), body)
	if code != http.StatusOK {
		t.Fatalf("slack %q: status %d: %s", text, code, out)
	}
	return decode[gateway.ChatReply](t, out)
}

// mattermostTo is slackTo for a Mattermost slash command.
func (h *drHarness) mattermostTo(t *testing.T, text, responseURL string) gateway.ChatReply {
	t.Helper()
	body := url.Values{"token": {mmToken}, "text": {text}, "user_name": {"bob"}, "response_url": {responseURL}}.Encode()
	code, out := h.do(t, "POST", "/v1/chat/mattermost", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body)
	if code != http.StatusOK {
		t.Fatalf("mattermost %q: status %d: %s", text, code, out)
	}
	return decode[gateway.ChatReply](t, out)
}

// requested checks a failover's immediate reply (in the channel, with its
// id, saying that its outcome follows) and returns the id.
func requested(t *testing.T, r gateway.ChatReply) string {
	t.Helper()
	m := requestedFailover.FindStringSubmatch(r.Text)
	if r.ResponseType != "in_channel" || m == nil || !strings.HasSuffix(r.Text, " Its outcome will be posted here when it ends.") {
		t.Fatalf("reply %+v, want the failover requested with its id, its outcome to follow", r)
	}
	return m[1]
}

// Slack wants a slash command's answer within 3 s, Mattermost about as
// fast: the chat failover answers as soon as it is requested, with its id,
// and posts its outcome to the command's response_url. Here no replicate
// function takes the failover, so its outcome never comes; the webhook's
// failover wait is long, so a reply that waited for the outcome would miss
// the request's deadline. After the chat failover wait, the chat is told
// that the failover is still pending.
func TestChatFailoverAnswersAtOnce(t *testing.T) {
	h := newDRHarness(t, gateway.WithHandlerTimeout(time.Hour), gateway.WithChatFailoverWait(time.Second))
	h.stopFailovers()
	chat := newChatStandIn(t, h.env.Config)
	form := url.Values{"command": {"/xbr"}, "text": {fmt.Sprintf("failover %q latest start", h.source.NameLabel)},
		"user_name": {"alice"}, "response_url": {chat.URL + "/commands/" + chatToken}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // far below the failover wait (40 min)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/chat/slack", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = slackHeaders(slackSecret, time.Now(), form)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("the chat failover did not answer before its outcome: %v", err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := requested(t, decode[gateway.ChatReply](t, string(out)))

	path := "/v1/failovers/" + id
	code, body := h.do(t, "GET", path, signedFor(webhookSecret, time.Now(), "GET", path, ""), "")
	if st := decode[failovers.Status](t, body); code != http.StatusOK || st.State != failovers.StatePending || st.Request == nil ||
		st.Request.RequestedBy != "slack:alice" {
		t.Fatalf("GET the chat failover: status %d: %s, want it pending, requested by slack:alice", code, body)
	}
	got := chat.next(t)
	if got.ResponseType != "in_channel" || !strings.Contains(got.Text, "`"+id+"`") || !strings.Contains(got.Text, "still pending") ||
		!strings.Contains(got.Text, "DR page") {
		t.Fatalf("posted outcome %+v, want the failover still pending, with its id", got)
	}
	h.server.Close() // waits for the watch, which logs after posting
	if logs := h.logs.String(); strings.Contains(logs, "s3cr3t") || !strings.Contains(logs, "chat failover outcome posted") {
		t.Fatalf("logs: want the posted outcome without the response_url's token:\n%s", logs)
	}
}

// The chat failover's outcomes, as the replicate function gives them, are
// posted to the command's response_url (Slack's or Mattermost's): no such
// copy, refused while the source runs (with how to force it), completed.
// Without a response_url the reply says where to look instead.
func TestChatFailoverPostsItsOutcome(t *testing.T) {
	h := newDRHarness(t)
	chat := newChatStandIn(t, h.env.Config)
	to := chat.URL + "/commands/" + chatToken
	name := h.source.NameLabel
	listed := h.slack(t, fmt.Sprintf("copies %q", name))
	if listed.ResponseType != "ephemeral" || !strings.Contains(listed.Text, h.copy.UUID) || !strings.Contains(listed.Text, "standby") {
		t.Fatalf("copies: %+v", listed)
	}

	id := requested(t, h.slackTo(t, "failover no-such-vm start", to))
	if got := chat.next(t); !strings.Contains(got.Text, "Failover `"+id+"` of no-such-vm (requested by slack:alice) failed: ") ||
		!strings.Contains(got.Text, "no complete copy") {
		t.Fatalf("failover of an unknown VM: posted %+v", got)
	}

	if err := h.sim.SetPowerState(string(h.sourceRef), "Running"); err != nil {
		t.Fatal(err)
	}
	id = requested(t, h.mattermostTo(t, fmt.Sprintf("failover %q latest start", name), to))
	refused := chat.next(t)
	if !strings.Contains(refused.Text, "Failover `"+id+"` of "+name+" (requested by mattermost:bob) refused: source VM "+name+" is still running on pool main") ||
		!strings.Contains(refused.Text, "`force`") || strings.Contains(refused.Text, "--force") {
		t.Fatalf("failover while the source runs: posted %+v", refused)
	}
	if power, blocked := h.copyState(t); power != xapi.Halted || !blocked {
		t.Fatalf("a refused chat failover touched the copy: power %s, start blocked %v", power, blocked)
	}

	id = requested(t, h.slackTo(t, fmt.Sprintf("failover %q latest start force", name), to))
	done := chat.next(t)
	if done.ResponseType != "in_channel" || !strings.Contains(done.Text, "Failover `"+id+"` of "+name) ||
		!strings.Contains(done.Text, h.copy.UUID) || !strings.Contains(done.Text, "booted") || !strings.Contains(done.Text, "requested by slack:alice") {
		t.Fatalf("forced failover: posted %+v", done)
	}
	if power, blocked := h.copyState(t); power != xapi.Running || blocked {
		t.Fatalf("after the chat failover: power %s, start blocked %v", power, blocked)
	}

	r := h.slackTo(t, fmt.Sprintf("failover %q latest start force", name), "")
	if !requestedFailover.MatchString(r.Text) || !strings.Contains(r.Text, "not posted back") || !strings.Contains(r.Text, "DR page") {
		t.Fatalf("failover without a response_url: %+v, want where to look for its outcome", r)
	}
}
