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

	"xbr/shared/chattext"
)

// Webhook posts messages to a Slack-compatible incoming webhook.
type Webhook struct {
	URL    string       // a secret; never printed
	Client *http.Client // [http.DefaultClient]
}

// message is the incoming-webhook body; text is Slack mrkdwn.
type message struct {
	Text string `json:"text"`
}

// Post sends title and body (shown as a code block), escaped for Slack
// mrkdwn. Errors never contain the URL.
func (w Webhook) Post(ctx context.Context, title, body string) error {
	text := chattext.Slack(title)
	if body != "" {
		text += "\n```\n" + strings.ReplaceAll(chattext.Slack(body), "```", "'''") + "```"
	}
	payload, err := json.Marshal(message{Text: text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(payload))
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
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL
		}
		return fmt.Errorf("report webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("report webhook: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return nil
}
