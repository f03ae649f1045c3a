package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"xbr/shared/restoreclient"
)

// How long a chat restore's outcome is waited for, and how long posting it
// may take.
const (
	chatOutcomeWait = 24 * time.Hour
	chatPostTimeout = 15 * time.Second
)

// outcomes are the chat restores whose outcome the gateway posts back to
// the chat when they end (Slack's and Mattermost's response_url). They run
// until the restore ends or the gateway closes; a gateway that restarts
// forgets them (the restore itself goes on, `status <id>` still answers).
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

// run runs f with a context that ends when the gateway closes or after
// chatOutcomeWait; it reports false once the gateway closed.
func (o *outcomes) run(f func(ctx context.Context)) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), chatOutcomeWait)
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

// Close stops posting chat restores' outcomes and waits for the watches to
// end. Serve calls it when it shuts down; a test that uses Handler calls it.
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

// notifyOutcome posts restore id's outcome to to when it ends, if to's host
// is one of gateway.chat_response_hosts; it returns what the reply says of it.
func (s *Server) notifyOutcome(to *url.URL, id, via string) string {
	if !s.env.Config.Gateway.ChatResponseAllowed(to.Host) {
		s.log.Warn("chat restore outcome not posted: the response_url's host is not in gateway.chat_response_hosts",
			"restore_id", id, "via", via, "response_host", to.Host)
		return fmt.Sprintf(" Its outcome is not posted back: the response_url's host %q is not in gateway.chat_response_hosts.", to.Host)
	}
	s.postOutcome(to, id, via)
	return " Its outcome will be posted here when it ends."
}

// postOutcome follows restore id and posts its outcome to to when it ends.
func (s *Server) postOutcome(to *url.URL, id, via string) {
	log := s.log.With("restore_id", id, "via", via, "response_host", to.Host) // never the path: it is a token
	ok := s.outcomes.run(func(ctx context.Context) {
		final, err := restoreclient.Follow(ctx, s.env.Conn, s.env.Subjects, s.env.Streams, id, nil)
		if err != nil || !final.Done() {
			log.Warn("chat restore outcome not posted: the restore did not end while followed", "err", err)
			return
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chatPostTimeout)
		defer cancel()
		if err := s.outcomes.post(pctx, to, ChatReply{ResponseType: inChannel, Text: describeStatus(final)}); err != nil {
			log.Warn("chat restore outcome not posted", "err", err)
			return
		}
		log.Info("chat restore outcome posted", "state", final.State)
	})
	if !ok {
		log.Warn("chat restore outcome not followed: the gateway is closing")
	}
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
