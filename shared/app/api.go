package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"xbr/events"
)

// The API is request/reply on core NATS: client commands (xbr jobs ls, xbr
// backups ls, ...) ask any running server, whichever answers first.

// APIQueue is the queue group every server's responder joins.
const APIQueue = events.APIQueue

// APIHandler answers one request verb; req is the raw JSON request.
type APIHandler func(ctx context.Context, env *Env, req json.RawMessage) (any, error)

type apiReply struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Error string          `json:"error,omitempty"`
}

// APISubject is the subject of verb under the prefix of s.
func APISubject(s events.Subjects, verb string) string { return s.Prefix() + ".api." + verb }

// apiHandlers are the verbs every server answers.
func apiHandlers() map[string]APIHandler {
	return map[string]APIHandler{
		"jobs": listJobs,
	}
}

// RegisterAPI returns a copy of base with the verbs of more added.
func RegisterAPI(base map[string]APIHandler, more map[string]APIHandler) map[string]APIHandler {
	out := make(map[string]APIHandler, len(base)+len(more))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// ServeAPI answers API requests until ctx is cancelled.
func ServeAPI(ctx context.Context, env *Env) error {
	handlers := RegisterAPI(apiHandlers(), env.API)
	var wg sync.WaitGroup
	var subs []*nats.Subscription
	for verb, h := range handlers {
		sub, err := env.Conn.NATS().QueueSubscribe(APISubject(env.Subjects, verb), APIQueue, func(m *nats.Msg) {
			wg.Add(1)
			defer wg.Done()
			answer(ctx, env, verb, h, m)
		})
		if err != nil {
			return fmt.Errorf("api %s: %w", verb, err)
		}
		subs = append(subs, sub)
	}
	<-ctx.Done()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
	wg.Wait()
	return nil
}

func answer(ctx context.Context, env *Env, verb string, h APIHandler, m *nats.Msg) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var reply apiReply
	data, err := h(ctx, env, m.Data)
	if err == nil {
		reply.Data, err = json.Marshal(data)
	}
	if err != nil {
		reply.Error = err.Error()
		env.Log.Warn("api request failed", "verb", verb, "err", err)
	}
	out, _ := json.Marshal(reply)
	if err := m.Respond(out); err != nil {
		env.Log.Warn("api reply failed", "verb", verb, "err", err)
	}
}

// apiTimeout bounds one request's work on the server; verifying every backup
// of a remote is the longest.
const apiTimeout = 30 * time.Minute

// ErrNoServer means no xbr server answered an API request.
var ErrNoServer = errors.New("no xbr server answered")

// Request asks a running server verb with req and decodes the answer into resp.
func Request(ctx context.Context, nc *nats.Conn, s events.Subjects, verb string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	m, err := nc.RequestWithContext(ctx, APISubject(s, verb), body)
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return fmt.Errorf("%w on %s (is 'xbr serve' running?)", ErrNoServer, nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return fmt.Errorf("api %s: %w", verb, err)
	}
	var reply apiReply
	if err := json.Unmarshal(m.Data, &reply); err != nil {
		return fmt.Errorf("api %s: bad reply: %w", verb, err)
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(reply.Data, resp)
}
