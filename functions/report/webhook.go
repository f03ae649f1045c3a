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

// message is the incoming-webhook body; text is Slack mrkdwn.
type message struct {
	Text string `json:"text"`
}

// Post sends title and body (shown as a code block), escaped for Slack
// mrkdwn. It gives up after Timeout. Errors never contain the URL.
func (w Webhook) Post(ctx context.Context, title, body string) error {
	text := chattext.Slack(title)
	if body != "" {
		text += "\n```\n" + strings.ReplaceAll(chattext.Slack(body), "```", "'''") + "```"
	}
	payload, err := json.Marshal(message{Text: text})
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
