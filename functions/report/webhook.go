package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"xbr/shared/chattext"
)

// Webhook posts messages to a Slack-compatible incoming webhook.
type Webhook struct {
	URL    string       // a secret; never printed
	Client *http.Client // [http.DefaultClient]
	// Timeout bounds one POST, from the dial to the end of the answer
	// [PostTimeout].
	Timeout time.Duration
}

// PostTimeout is how long a report's POST may take: a receiver that
// accepts the connection and never answers fails it then.
const PostTimeout = 30 * time.Second

// Message is one report as posted: Title, its first line, then Body as a
// code block. More is the command that shows the whole body ("xbr history
// --run <id>"), named when the body is cut to fit a chat message.
type Message struct {
	Title, Body, More string
}

// MaxText is the most bytes of text a report posts: under Mattermost's
// post limit of 16,383 characters, so that a report is one post, and well
// under the 40,000 characters past which Slack truncates a message.
// Rocket.Chat refuses a message over its Message_MaxAllowedSize, 5,000 by
// default; raise it to 15,000 for long reports. Counted in bytes, which are
// never fewer than the characters a service counts (runes or UTF-16 units).
const MaxText = 15000

// message is the incoming-webhook body; text is Slack mrkdwn.
type message struct {
	Text string `json:"text"`
}

// Post sends m, escaped for Slack mrkdwn and cut to MaxText. It gives up
// after Timeout. Errors never contain the URL.
func (w Webhook) Post(ctx context.Context, m Message) error {
	payload, err := json.Marshal(message{Text: mrkdwn(m)})
	if err != nil {
		return err
	}
	bounded, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(bounded, http.MethodPost, w.URL, bytes.NewReader(payload))
	if err != nil {
		return errors.New("report webhook: invalid URL")
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return w.failed(ctx, bounded, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("report webhook: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// mrkdwn is m as Slack mrkdwn in at most MaxText bytes (a title longer than
// that aside). A body that does not fit is cut after its last whole line
// that does, so never inside an escape such as "&lt;", and a last line says
// how many lines were left out and names More. The title is never cut.
func mrkdwn(m Message) string {
	head := chattext.Slack(m.Title)
	if m.Body == "" {
		return head
	}
	code := strings.ReplaceAll(chattext.Slack(m.Body), "```", "'''")
	if whole := head + "\n```\n" + code + "```"; len(whole) <= MaxText {
		return whole
	}
	lines := strings.SplitAfter(strings.TrimSuffix(code, "\n"), "\n")
	room := MaxText - len(head) - len("\n```\n```") - len(omitted(len(lines), m.More))
	kept, size := 0, 0
	for kept < len(lines) && size+len(lines[kept]) <= room {
		size += len(lines[kept])
		kept++
	}
	if kept == 0 {
		return head + omitted(len(lines), m.More)
	}
	return head + "\n```\n" + strings.Join(lines[:kept], "") + "```" + omitted(len(lines)-kept, m.More)
}

// omitted is the last line of a cut report: "… 1234 more lines: `xbr
// history --run <id>`".
func omitted(n int, more string) string {
	s := fmt.Sprintf("\n… %d more lines", n)
	if more != "" {
		s += ": `" + chattext.Slack(more) + "`"
	}
	return s
}

// failed is the error of a POST that got no answer: the receiver's silence
// past the timeout (bounded ended, ctx did not), or err without the URL
// that *url.Error quotes.
func (w Webhook) failed(ctx, bounded context.Context, err error) error {
	if bounded.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("report webhook: no answer within %s", w.timeout())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("report webhook: %w", err)
}

func (w Webhook) timeout() time.Duration {
	if w.Timeout <= 0 {
		return PostTimeout
	}
	return w.Timeout
}
