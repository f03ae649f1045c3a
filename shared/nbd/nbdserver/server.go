package nbdserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Mode is how a connection is served.
type Mode int

// The modes: XAPI picks one per connection from the networks' purposes.
const (
	ModeTLS    Mode = iota // forced TLS (a network has purpose nbd)
	ModePlain              // no TLS (only insecure_nbd)
	ModeRefuse             // neither, or both: the connection is closed
)

// Export is one opened export.
type Export struct {
	Size int64
	Data io.ReaderAt
	// Done, if set, is called when the connection ends.
	Done func()
}

// Config configures a server; Open is required, and TLS in ModeTLS.
type Config struct {
	// Mode decides each connection's mode; nil means ModeTLS.
	Mode func() Mode
	// TLS holds the certificates (Certificates or GetCertificate). The
	// protocol parameters are xapi-nbd's: TLS 1.2 only, ECDHE with AES-GCM,
	// curve P-384.
	TLS *tls.Config
	// Open resolves an export name; an error closes the connection.
	Open func(ctx context.Context, name string) (Export, error)
	// MaxConns bounds concurrent connections; default 16.
	MaxConns int
	// OnRead is told the bytes of each read's data as they are about to be
	// sent (piece by piece), so that a client which has received them
	// finds them counted.
	OnRead func(n int64)
	// Timeout is the idle timeout of a connection; default 5 minutes.
	Timeout time.Duration
	Logger  *slog.Logger // default: discard
}

// Server is an NBD server; Serve runs it on a listener until Close.
type Server struct {
	cfg    Config
	tls    *tls.Config
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a server; it serves nothing until Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Open == nil {
		return nil, errors.New("nbdserver: Config.Open is nil")
	}
	if cfg.Mode == nil {
		cfg.Mode = func() Mode { return ModeTLS }
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var t *tls.Config
	if cfg.TLS != nil {
		t = cfg.TLS.Clone()
		t.MinVersion, t.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		t.CurvePreferences = []tls.CurveID{tls.CurveP384}
		t.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, tls: t, ctx: ctx, cancel: cancel,
		lns: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}}, nil
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ln.Close()
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nbdserver: accept: %w", err)
		}
		if !s.track(conn) {
			s.cfg.Logger.Warn("nbdserver: server busy", "limit", s.cfg.MaxConns, "remote", conn.RemoteAddr().String())
			_ = conn.Close()
			continue
		}
		go func() {
			defer s.untrack(conn)
			if err := s.serveConn(conn); err != nil {
				s.cfg.Logger.Debug("nbdserver: connection ended", "remote", conn.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// track registers conn unless the server is full or closed.
func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.conns) >= s.cfg.MaxConns {
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(conn net.Conn) {
	_ = conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	s.wg.Done()
}

// Close stops every listener and connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	var err error
	for ln := range s.lns {
		err = errors.Join(err, ln.Close())
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
