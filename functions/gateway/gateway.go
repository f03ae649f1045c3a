package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/history"
	"xbr/shared/metrics"
)

// Name is the function's name.
const Name = "gateway"

// Timeouts of the HTTP server and of every handler (HandlerTimeout is the
// default of WithHandlerTimeout; the write timeout is the handler's plus
// writeMargin).
const (
	HandlerTimeout    = 30 * time.Second
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeMargin       = 5 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Function is the gateway as `xbr serve` runs it; it answers the
// protection query, since it holds the history.
func Function() fn.Function {
	a := &answerProtection{}
	return fn.Function{Name: Name, Run: func(ctx context.Context, env *fn.Env) error { return run(ctx, env, a) },
		API: []fn.APIEndpoint{fn.Answer(events.QueryProtection, a.handle)}}
}

func run(ctx context.Context, env *fn.Env, a *answerProtection) error {
	s, err := New(env)
	if err != nil {
		return err
	}
	a.set(s)
	ln, err := net.Listen("tcp", env.HTTPListen)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", env.HTTPListen, err)
	}
	return s.Serve(ctx, ln)
}

// Server is the HTTP front door: the Restore view, the webhook, the chat
// commands and /healthz.
type Server struct {
	env     *fn.Env
	log     *slog.Logger
	now     func() time.Time
	opts    options // the handler timeout and the failover wait
	pages   *pages
	handler http.Handler
	metrics *metrics.Metrics    // /metrics and /readyz, fed in Serve
	history *history.Projection // the History pages, fed in Serve
	seen    *seen               // signed requests accepted by any replica
	hosts   hostNames           // the Host values the page answers to
	login   *login              // the page's login
	forms   formTokens          // the page's form tokens
	// spaceCache holds the remotes' listed sizes for the Protection page.
	spaceCache spaceCache
	// historyLoading: Serve is replaying the streams into history.
	historyLoading atomic.Bool
	// outcomes post chat restores' outcomes back to the chat.
	outcomes *outcomes
}

// New builds the gateway of env (its templates are parsed here).
func New(env *fn.Env, opts ...Option) (*Server, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	p, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{env: env, log: log.With(bus.KeyFunction, Name), now: now, opts: o, pages: p,
		metrics: metrics.ForStreams(env.Conn, env.Streams).WithBuildInfo(env.Version), history: history.New(history.Options{Now: now, KeepRuns: cmp.Or(env.Config.Gateway.HistoryRuns, historyKept)}),
		seen: &seen{conn: env.Conn, replicas: env.Config.NATS.StreamReplicas}, outcomes: newOutcomes()}
	gw := env.Config.Gateway
	if s.login, err = newLogin(gw); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.hosts = newHostNames(gw, cmpOr(env.HTTPListen, gw.Listen))
	s.forms = newFormTokens(gw.CSRFSecret.Reveal(), now)
	s.metrics.AddProtection(s.protection)
	s.handler = s.routes()
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Handler is the gateway's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx is cancelled, then shuts down gracefully. It
// logs "gateway listening" with the real address (key "url") first.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.Close() // the chat outcome watches end with the gateway
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      s.opts.handlerTimeout + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	gw := s.env.Config.Gateway
	if !gw.HasLogin() && !gw.AllowAnonymous && !config.IsLoopback(ln.Addr().String()) {
		// config check refuses this for gateway.listen; --http gets the same answer.
		_ = ln.Close()
		return fmt.Errorf("gateway: refusing to serve the web page on %s with no login: anyone who reaches it could restore VMs and fail over "+
			"(set gateway.users_file or gateway.auth.proxy_header, listen on loopback, or write gateway.allow_anonymous: true)", ln.Addr())
	}
	s.log.Info("gateway listening", "url", "http://"+ln.Addr().String(),
		"webhook", gw.WebhookSecret.IsSet(), "slack", gw.SlackSigningSecret.IsSet(),
		"mattermost", gw.MattermostToken.IsSet())
	go metrics.Feed(ctx, s.env.Conn, s.env.Streams, s.metrics, s.log)
	s.historyLoading.Store(true)
	go s.followHistory(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	return nil
}
