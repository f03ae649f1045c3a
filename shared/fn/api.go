package fn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"xbr/events"
)

// The queries are one NATS micro service (events.ServiceName): each
// function registers an instance on its own connection with the common
// endpoints and its own, in the queue group events.APIQueue, so a client
// command asks any running server and `nats micro ls` lists them.

// APIHandler answers one query; req is the raw JSON request.
type APIHandler func(ctx context.Context, env *Env, req json.RawMessage) (any, error)

// APIEndpoint is a query and the handler that answers it.
type APIEndpoint struct {
	Query  events.Endpoint
	Handle APIHandler
}

// Answer is the endpoint answering q with h: the request is read strictly
// (an empty body is the zero request) and the response is h's.
func Answer[Req, Resp any](q events.Query[Req, Resp], h func(ctx context.Context, env *Env, req Req) (Resp, error)) APIEndpoint {
	return APIEndpoint{Query: q.Endpoint, Handle: func(ctx context.Context, env *Env, raw json.RawMessage) (any, error) {
		var req Req
		if body := bytes.TrimSpace(raw); len(body) > 0 && string(body) != "null" {
			if err := events.DecodeStrict(body, &req); err != nil {
				return nil, fmt.Errorf("%s: bad request: %w", q.Name, err)
			}
		}
		return h(ctx, env, req)
	}}
}

// commonAPI are the endpoints every function answers.
func commonAPI() []APIEndpoint { return []APIEndpoint{Answer(events.QueryJobs, listJobs)} }

// RegisterAPI returns base with the endpoints of more added; an endpoint of
// a query already in base replaces it.
func RegisterAPI(base []APIEndpoint, more []APIEndpoint) []APIEndpoint {
	out := slices.Clone(base)
	for _, e := range more {
		out = slices.DeleteFunc(out, func(b APIEndpoint) bool { return b.Query.Name == e.Query.Name })
		out = append(out, e)
	}
	return out
}

// ServeAPI registers an instance of the query service with the common
// endpoints and env.API on env's connection and answers until ctx is
// cancelled.
func ServeAPI(ctx context.Context, env *Env) error {
	svc, err := micro.AddService(env.Conn.NATS(), micro.Config{
		Name: events.ServiceName, Version: events.ServiceVersion, QueueGroup: events.APIQueue,
		Description: "xbr queries: backups, jobs, pools, disaster-recovery copies",
		Metadata:    map[string]string{"prefix": env.Subjects.Prefix(), "xbr_version": env.Version},
	})
	if err != nil {
		return fmt.Errorf("api service: %w", err)
	}
	for _, e := range RegisterAPI(commonAPI(), env.API) {
		h := micro.ContextHandler(ctx, func(ctx context.Context, r micro.Request) { answer(ctx, env, e, r) })
		if err := svc.AddEndpoint(e.Query.MicroName(), h, micro.WithEndpointSubject(e.Query.Subject(env.Subjects))); err != nil {
			_ = svc.Stop()
			return fmt.Errorf("api %s: %w", e.Query.Name, err)
		}
	}
	<-ctx.Done()
	return svc.Stop()
}

// apiErrorCode is the micro error code of a failed query; the
// description is the error's text as events carry it (events.Reason: one
// line, the one limit on error text).
const apiErrorCode = "500"

func answer(ctx context.Context, env *Env, e APIEndpoint, r micro.Request) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	data, err := e.Handle(ctx, env, r.Data())
	var body []byte
	if err == nil {
		body, err = json.Marshal(data)
	}
	if err != nil {
		env.Log.Warn("query failed", "query", e.Query.Name, "err", err)
		err = r.Error(apiErrorCode, events.Reason(err), nil)
	} else {
		err = r.Respond(body)
	}
	if err != nil {
		env.Log.Warn("query reply failed", "query", e.Query.Name, "err", err)
	}
}

// apiTimeout bounds one request's work on the server; verifying every backup
// of a remote is the longest.
const apiTimeout = 30 * time.Minute

// ErrNoServer means no xbr server answered an API request.
var ErrNoServer = errors.New("no xbr server answered")

// Ask asks a running server query q with req and returns its answer.
func Ask[Req, Resp any](ctx context.Context, nc *nats.Conn, s events.Subjects, q events.Query[Req, Resp], req Req) (Resp, error) {
	var resp Resp
	var body []byte
	if _, none := any(req).(events.NoRequest); !none {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return resp, err
		}
	}
	m, err := nc.RequestWithContext(ctx, q.Subject(s), body)
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
		return resp, fmt.Errorf("%w on %s (is 'xbr serve' running?)", ErrNoServer, nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return resp, fmt.Errorf("api %s: %w", q.Name, err)
	}
	if msg := m.Header.Get(micro.ErrorHeader); msg != "" {
		return resp, errors.New(msg)
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return resp, fmt.Errorf("api %s: bad reply: %w", q.Name, err)
	}
	return resp, nil
}
