package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/xapi/xapisim"
)

// ServeOptions say what `xbr serve` runs and where.
type ServeOptions struct {
	ConfigFile string // "" = the embedded demo
	Functions  string // comma-separated names; "" = all
	NATSURL    string // overrides the configuration; "" = the config's, else embedded
	NATSListen string // where the embedded server listens
	DataDir    string // overrides the configuration's data_dir
	HTTPListen string // overrides gateway.listen
	Version    string
	Log        *slog.Logger
	Now        func() time.Time
}

// demo is what the embedded demo adds: a simulated pool.
type demo struct {
	sim *xapisim.Server
	url string
}

// Serve runs the selected functions until ctx is cancelled, then drains them
// and stops what it started (the embedded NATS server, the demo simulator).
func Serve(ctx context.Context, o ServeOptions, all []Function) error {
	fns, err := Select(all, o.Functions)
	if err != nil {
		return err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, dm, err := loadConfig(o)
	if err != nil {
		return err
	}
	if dm != nil {
		defer dm.sim.Close()
	}
	natsURL, stopNATS, err := startNATS(o, cfg)
	if err != nil {
		return err
	}
	defer stopNATS()
	env, closeEnv, err := newEnv(ctx, o, cfg, natsURL)
	if err != nil {
		return err
	}
	for _, f := range all {
		env.API = RegisterAPI(env.API, f.API)
	}
	defer closeEnv()
	announce(o.Log, cfg, env, dm, fns)
	return runAll(ctx, env, fns)
}

func loadConfig(o ServeOptions) (*config.Config, *demo, error) {
	if o.ConfigFile != "" {
		cfg, err := config.Load(o.ConfigFile)
		if err != nil {
			return nil, nil, err
		}
		if o.DataDir != "" {
			cfg.DataDir = o.DataDir
		}
		return cfg, nil, nil
	}
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = config.DefaultDataDir
	}
	return startDemo(dataDir, o.Log, o.Now)
}

func startDemo(dataDir string, log *slog.Logger, now func() time.Time) (*config.Config, *demo, error) {
	simDir := filepath.Join(dataDir, "xapisim")
	if err := os.MkdirAll(filepath.Join(dataDir, "remote"), 0o755); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	sim, err := xapisim.New(xapisim.Options{VMs: 3, DiskSize: 64 << 20, DataDir: simDir,
		PoolName: "demo", Now: now, Logger: log.With("component", "xapi-sim")})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: start the XAPI simulator: %w", err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, nil, fmt.Errorf("demo: start the XAPI simulator: %w", err)
	}
	user, pass := sim.Credentials()
	cfg, err := config.Demo(dataDir, url, user, config.NewSecret(pass))
	if err != nil {
		sim.Close()
		return nil, nil, err
	}
	return cfg, &demo{sim: sim, url: url}, nil
}

// startNATS starts the embedded server unless a URL is given.
func startNATS(o ServeOptions, cfg *config.Config) (string, func(), error) {
	if o.NATSURL != "" {
		return o.NATSURL, func() {}, nil
	}
	if cfg.NATS.URL != "" {
		return cfg.NATS.URL, func() {}, nil
	}
	listen := cfg.NATS.Listen
	if o.NATSListen != "" {
		listen = o.NATSListen
	}
	host, port, err := splitHostPort(listen)
	if err != nil {
		return "", nil, fmt.Errorf("--nats-listen %q: %w", listen, err)
	}
	srv, err := bus.StartServer(bus.ServerConfig{Host: host, Port: port,
		StoreDir: filepath.Join(cfg.DataDir, "nats")})
	if err != nil {
		return "", nil, fmt.Errorf("embedded NATS on %s: %w", listen, err)
	}
	return srv.ClientURL(), srv.Shutdown, nil
}

func newEnv(ctx context.Context, o ServeOptions, cfg *config.Config, natsURL string) (*Env, func(), error) {
	conn, err := bus.Connect(natsURL, connectOptions(cfg), o.Log)
	if err != nil {
		return nil, nil, err
	}
	subjects, err := events.NewSubjects(cfg.NATS.Prefix)
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("nats.prefix: %w", err)
	}
	httpListen := cfg.Gateway.Listen
	if o.HTTPListen != "" {
		httpListen = o.HTTPListen
	}
	env := &Env{Config: cfg, Conn: conn, Subjects: subjects, Log: o.Log, Now: o.Now,
		Pools: NewPools(cfg.Pools, o.Log), Remotes: NewRemotes(cfg.Remotes),
		NATSURL: natsURL, HTTPListen: httpListen, Version: o.Version}
	if err := conn.EnsureStreams(ctx, env.Topology()); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	closeEnv := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		env.Pools.Close(cctx)
		if err := conn.Close(); err != nil {
			o.Log.Warn("closing the NATS connection", "err", err)
		}
	}
	return env, closeEnv, nil
}

func connectOptions(cfg *config.Config) bus.ConnectOptions {
	n := cfg.NATS
	return bus.ConnectOptions{Name: "xbr", CredsFile: n.CredentialsFile, NKeySeedFile: n.NKeyFile,
		User: n.User, Password: n.Password.Reveal(), Token: n.Token.Reveal(),
		CAFile: n.TLS.CA, CertFile: n.TLS.Cert, KeyFile: n.TLS.Key}
}

// runAll runs the functions and the API responder; the first failure stops all.
func runAll(ctx context.Context, env *Env, fns []Function) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("function %s: %w", name, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	start("api", func(ctx context.Context) error { return ServeAPI(ctx, env) })
	for _, f := range fns {
		start(f.Name, func(ctx context.Context) error { return f.Run(ctx, env) })
	}
	wg.Wait()
	env.Log.Info("stopped", "functions", len(fns))
	return errors.Join(errs...)
}
