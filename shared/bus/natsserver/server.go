package natsserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures the embedded NATS server. The zero value of every
// field but StoreDir means its default.
type ServerConfig struct {
	Name     string // server name; default "xbr"
	Host     string // listen address; default 127.0.0.1
	Port     int    // default 4222; -1 picks a free port (tests)
	StoreDir string // JetStream file store; required
	// MaxStore and MaxMemory bound JetStream (bytes); 0 = server default.
	MaxStore, MaxMemory int64
	// ReadyTimeout bounds the wait for the server to accept clients; default 10s.
	ReadyTimeout time.Duration
	// Users are the logins the server accepts, each with its grant. With
	// none the server is open: only allowed on a loopback Host (tests).
	Users []User
	// NKeyUsers are public NKeys the server accepts, each with its grant.
	NKeyUsers []NKeyUser
}

// closedClientsKept is how many closed connections the server remembers
// (for monitoring), instead of nats-server's 10,000: every CLI command is
// a connection, and a soak of 1,000 `xbr run --wait` kept each one's
// record, about 1 KiB, growing the memory of xbr serve.
const closedClientsKept = 100

// Server is an embedded nats-server with JetStream on.
type Server struct {
	ns *server.Server
}

// StartServer starts an in-process NATS server with JetStream and a file
// store under cfg.StoreDir, and waits until it accepts clients.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded nats: store dir is required")
	}
	opts := &server.Options{
		ServerName:         orDefault(cfg.Name, "xbr"),
		Host:               orDefault(cfg.Host, "127.0.0.1"),
		Port:               cfg.Port,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxStore:  cfg.MaxStore,
		JetStreamMaxMemory: cfg.MaxMemory,
		NoSigs:             true,
		MaxClosedClients:   closedClientsKept,
	}
	if opts.Port == 0 {
		opts.Port = 4222
	}
	if err := authorize(opts, cfg); err != nil {
		return nil, err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	wait := cfg.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	if !ns.ReadyForConnections(wait) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats on %s:%d: not ready after %s", opts.Host, opts.Port, wait)
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to (nats://127.0.0.1:<port>).
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Connections are the connections open on the server and the closed ones
// it remembers.
func (s *Server) Connections() (open, closed int, err error) {
	c, err := s.ns.Connz(&server.ConnzOptions{State: server.ConnClosed, Limit: 1})
	if err != nil {
		return 0, 0, err
	}
	return s.ns.NumClients(), c.Total, nil
}

// Shutdown stops the server and waits until it has stopped.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
