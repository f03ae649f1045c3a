package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"xbr/shared/failovers"
	"xbr/shared/metrics"
	"xbr/shared/restoreclient"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	metrics.Routes(mux, s.metrics, metrics.StreamsReady(s.env.Conn, s.env.Streams)) // GET /metrics, GET /readyz
	s.historyRoutes(mux)
	// JSON API: webhook-signed.
	mux.HandleFunc("POST /v1/restores", s.postRestore)
	mux.HandleFunc("GET /v1/restores/{id}", s.getRestore)
	mux.HandleFunc("POST /v1/failovers", s.postFailover)
	mux.HandleFunc("GET /v1/failovers/{id}", s.getFailover)
	// Chat commands: Slack's signing secret, Mattermost's token.
	mux.HandleFunc("POST /v1/chat/slack", s.slack)
	mux.HandleFunc("POST /v1/chat/mattermost", s.mattermost)
	// The Restore view: forms are protected against cross-site requests.
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /{$}", s.protectionPage) // the landing view (protection_page.go)
	mux.HandleFunc("GET /restore", s.wizard)
	mux.Handle("POST /restore", csrf.Handler(http.HandlerFunc(s.submitRestore)))
	mux.HandleFunc("GET /restores/{id}", s.statusPage)
	mux.HandleFunc("GET /restores/{id}/status", s.statusJSON)
	mux.HandleFunc("GET /healthcheck", s.healthForm) // a backup's health check (web_health.go)
	mux.Handle("POST /healthcheck", csrf.Handler(http.HandlerFunc(s.submitHealthCheck)))
	mux.HandleFunc("GET /healthchecks/{id}", s.healthStatusPage)
	mux.HandleFunc("GET /healthchecks/{id}/status", s.healthStatusJSON)
	s.drRoutes(mux, csrf) // the Disaster recovery pages (drpage.go)
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	timeout := http.TimeoutHandler(mux, s.opts.handlerTimeout, `{"error":"the request took too long"}`)
	return s.observe(securityHeaders(s.guard(timeout)))
}

// ErrBodyTooLarge: a POST body over MaxBodySize (413).
var ErrBodyTooLarge = errors.New("body: larger than 64 KiB")

type ctxKey struct{}

// reqLog is the request's logger (with its request id).
func reqLog(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// observe gives every request an id (X-Request-Id) and logs it once, without
// query strings, headers or bodies (they can carry secrets).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestLogID()
		log := s.log.With("request_id", id)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, log)))
		log.Info("http request", "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func newRequestLogID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.env.Conn == nil || !s.env.Conn.NATS().IsConnected() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "NATS: not connected\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// readBody reads at most MaxBodySize bytes of the body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, ErrBodyTooLarge
	}
	if err != nil {
		return nil, &FieldError{Field: "body", Problem: "cannot be read: " + err.Error()}
	}
	return body, nil
}

// upstreamError is a failure of something the gateway depends on: a remote,
// a pool, the backbone (502).
type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

func upstream(err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	return &upstreamError{err: err}
}

// errorStatus maps an error to its HTTP status.
func errorStatus(err error) int {
	var fe *FieldError
	var ue *upstreamError
	var re *refusedError
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &fe) && fe.NotFound, errors.Is(err, restoreclient.ErrNotFound), errors.Is(err, failovers.ErrNotFound):
		return http.StatusNotFound
	case errors.As(err, &re):
		return http.StatusConflict
	case errors.As(err, &fe):
		return http.StatusBadRequest
	case errors.As(err, &ue):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fail answers err as JSON and logs it (never a secret: errors carry none).
func fail(w http.ResponseWriter, r *http.Request, err error) {
	code := errorStatus(err)
	body := apiError{Error: err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
	}
	if code == http.StatusInternalServerError {
		body.Error = "internal error (request " + w.Header().Get("X-Request-Id") + ")"
	}
	reqLog(r).Warn("request refused", "status", code, "err", err)
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
