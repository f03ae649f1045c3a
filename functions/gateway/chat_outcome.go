package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"xbr/shared/restoreclient"
)

// How long a chat restore's and a chat failover's outcome are waited for
// (WithChatFailoverWait), and how long posting it may take.
const (
	chatOutcomeWait  = 24 * time.Hour
	chatFailoverWait = 15 * time.Minute
	chatPostTimeout  = 15 * time.Second
)

// outcomes are the chat restores and failovers whose outcome the gateway
// posts back to the chat when they end (Slack's and Mattermost's
// response_url). They run until the request ends, its wait passes or the
// gateway closes; a gateway that restarts forgets them (the request itself
// goes on: `status <id>` and the DR page still answer).
type outcomes struct {
	mu     sync.Mutex
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup
	client *http.Client
}

func newOutcomes() *outcomes {
	return &outcomes{stop: make(chan struct{}), client: &http.Client{Timeout: chatPostTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// run runs f with a context that ends when the gateway closes (canceled)
// or after wait (deadline exceeded); it reports false once the gateway
// closed.
func (o *outcomes) run(wait time.Duration, f func(ctx context.Context)) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		go func() {
			select {
			case <-o.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		f(ctx)
	}()
	return true
}

// close stops every watch and waits for them.
func (o *outcomes) close() {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.stop)
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// Close stops posting chat restores' and failovers' outcomes and waits for
// the watches to end. Serve calls it when it shuts down; a test that uses
// Handler calls it.
func (s *Server) Close() { s.outcomes.close() }

// checkResponseURL accepts a chat's response_url: an absolute http(s) URL
// with a host and no login. The error never quotes it: its path is a token.
func checkResponseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, badField("response_url", "", "is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, badField("response_url", "", fmt.Sprintf("scheme %.10q: want https or http", u.Scheme))
	case u.Host == "" || u.User != nil:
		return nil, badField("response_url", "", "want an absolute URL with a host and no login")
	}
	return u, nil
}

// chatFollow is a request a chat command published whose outcome the
// gateway posts back to the chat when it ends.
type chatFollow struct {
	what string        // "restore" or "failover": the log's words
	id   string        // the request id, logged as <what>_id
	wait time.Duration // how long the request is followed
	// outcome follows the request until it ends or ctx ends and returns
	// the text to post and the state to log; an error posts nothing.
	outcome func(ctx context.Context) (text, state string, err error)
	// elsewhere is appended to the command's reply when the outcome is not
	// posted back: where to look for it instead.
	elsewhere string
}

// notifyOutcome posts f's outcome to to when it ends, if to is set and its
// host is one of gateway.chat_response_hosts; it returns what the reply
// says of it.
func (s *Server) notifyOutcome(to *url.URL, f *chatFollow, via string) string {
	if to == nil {
		if f.elsewhere == "" {
			return ""
		}
		return " Its outcome is not posted back: the command has no response_url." + f.elsewhere
	}
	if !s.env.Config.Gateway.ChatResponseAllowed(to.Host) {
		s.log.Warn("chat "+f.what+" outcome not posted: the response_url's host is not in gateway.chat_response_hosts",
			f.what+"_id", f.id, "via", via, "response_host", to.Host)
		return fmt.Sprintf(" Its outcome is not posted back: the response_url's host %q is not in gateway.chat_response_hosts.", to.Host) + f.elsewhere
	}
	s.postOutcome(to, f, via)
	return " Its outcome will be posted here when it ends."
}

// postOutcome follows f and posts its outcome to to, in the background.
func (s *Server) postOutcome(to *url.URL, f *chatFollow, via string) {
	log := s.log.With(f.what+"_id", f.id, "via", via, "response_host", to.Host) // never the path: it is a token
	ok := s.outcomes.run(f.wait, func(ctx context.Context) {
		text, state, err := f.outcome(ctx)
		if err != nil {
			log.Warn("chat "+f.what+" outcome not posted", "err", err)
			return
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chatPostTimeout)
		defer cancel()
		if err := s.outcomes.post(pctx, to, ChatReply{ResponseType: inChannel, Text: text}.to(via)); err != nil {
			log.Warn("chat "+f.what+" outcome not posted", "err", err)
			return
		}
		log.Info("chat "+f.what+" outcome posted", "state", state)
	})
	if !ok {
		log.Warn("chat " + f.what + " outcome not followed: the gateway is closing")
	}
}

// restoreFollow follows chat restore id until it ends.
func (s *Server) restoreFollow(id string) *chatFollow {
	return &chatFollow{what: "restore", id: id, wait: chatOutcomeWait, outcome: func(ctx context.Context) (string, string, error) {
		final, err := restoreclient.Follow(ctx, s.env.Conn, s.env.Subjects, s.env.Streams, id, nil)
		if err == nil && !final.Done() {
			err = errors.New("it is not done")
		}
		if err != nil {
			return "", "", fmt.Errorf("the restore did not end while followed: %w", err)
		}
		return describeStatus(final), string(final.State), nil
	}}
}

// post sends reply as JSON to to; a status other than 2xx is an error.
func (o *outcomes) post(ctx context.Context, to *url.URL, reply ChatReply) error {
	body, err := json.Marshal(reply)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to %s: cannot build the request", to.Host) // the error would quote the URL
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("post to %s failed", to.Host) // the error would quote the URL
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post to %s: status %d", to.Host, resp.StatusCode)
	}
	return nil
}
