package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/repo"
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
	// HealthListen is where /healthz and /readyz are served; "" = nowhere.
	HealthListen string
	// DemoSimListen is where the demo's XAPI simulator listens; "" = a free loopback port.
	// Only the demo (no ConfigFile) starts a simulator.
	DemoSimListen string
	Version       string
	Log           *slog.Logger
	Now           func() time.Time
}

// demo is what the embedded demo adds: a simulated pool.
type demo struct {
	sim *xapisim.Server
	url string
}

// Serve runs the selected functions until ctx is cancelled, then drains them
// and stops what it started (the embedded NATS server, the demo simulator).
func Serve(ctx context.Context, o ServeOptions, all []fn.Function) error {
	fns, err := fn.Select(all, o.Functions)
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
	natsURL, ids, stopNATS, err := startNATS(o, cfg)
	if err != nil {
		return err
	}
	defer stopNATS()
	if dm != nil {
		announceDemo(o.Log, cfg, dm, natsURL, cmp.Or(o.HTTPListen, cfg.Gateway.Listen))
	}
	env, cs, err := newEnv(ctx, o, cfg, natsURL, ids)
	if err != nil {
		return err
	}
	defer closeEnv(env, cs)
	envs, err := functionEnvs(env, cs, fns)
	if err != nil {
		return err
	}
	if o.HealthListen != "" {
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := startHealth(hctx, o.HealthListen, readiness(envs, fns), o.Log); err != nil {
			return err
		}
	}
	announce(o.Log, cfg, env, fns)
	return runAll(ctx, envs, fns)
}

func closeEnv(env *fn.Env, cs *conns) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env.Pools.Close(ctx)
	cs.closeAll(env.Log)
}

func loadConfig(o ServeOptions) (*config.Config, *demo, error) {
	if o.ConfigFile != "" {
		if o.DemoSimListen != "" {
			return nil, nil, fmt.Errorf("--demo-sim-listen %q: only the embedded demo (no --config) starts a simulator", o.DemoSimListen)
		}
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
	return startDemo(dataDir, cmp.Or(o.DemoSimListen, "127.0.0.1:0"), o.Log, o.Now)
}

func startDemo(dataDir, simListen string, log *slog.Logger, now func() time.Time) (*config.Config, *demo, error) {
	simDir := filepath.Join(dataDir, "xapisim")
	if err := os.MkdirAll(filepath.Join(dataDir, "remote"), 0o755); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	// NBD over TLS on the pool's network, as `xbr xapi-sim --nbd nbd`: the
	// demo's incremental job then reads changed blocks, not whole disks.
	sim, err := xapisim.New(xapisim.Options{VMs: 3, DiskSize: 64 << 20, DataDir: simDir, NBD: "nbd",
		PoolName: "demo", Now: now, Logger: log.With("component", "xapi-sim")})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: start the XAPI simulator: %w", err)
	}
	url, err := sim.Start(simListen)
	if err != nil {
		sim.Close()
		return nil, nil, fmt.Errorf("demo: start the XAPI simulator on --demo-sim-listen %q: %w", simListen, err)
	}
	user, pass := sim.Credentials()
	cfg, err := config.Demo(dataDir, url, user, config.NewSecret(pass))
	if err != nil {
		sim.Close()
		return nil, nil, err
	}
	// The demo restores and fails over simulated VMs only: its page may be
	// reached beyond loopback without a login (the image's --http 0.0.0.0:8080).
	cfg.Gateway.AllowAnonymous = true
	return cfg, &demo{sim: sim, url: url}, nil
}

// startNATS starts the embedded server unless a URL is given. With the
// embedded server it returns the identities of the data dir (created on
// first start); with an external one, those of the data dir only when no
// login is configured and they exist.
func startNATS(o ServeOptions, cfg *config.Config) (string, map[string]bus.Identity, func(), error) {
	if url := cmp.Or(o.NATSURL, cfg.NATS.URL); url != "" {
		return url, existingIdentities(cfg), func() {}, nil
	}
	listen := cmp.Or(o.NATSListen, cfg.NATS.Listen)
	host, port, err := splitHostPort(listen)
	if err != nil {
		return "", nil, nil, fmt.Errorf("--nats-listen %q: %w", listen, err)
	}
	if !isLoopback(host) && !config.HasNATSLogin(cfg.NATS) {
		return "", nil, nil, fmt.Errorf("--nats-listen %q: the embedded NATS listens beyond loopback, so nats.user/password or nats.nkey_file must be configured", listen)
	}
	ids, err := bus.EnsureIdentities(bus.IdentitiesDir(cfg.DataDir), identityNames())
	if err != nil {
		return "", nil, nil, err
	}
	users, nkeyUsers, err := serverUsers(cfg, ids)
	if err != nil {
		return "", nil, nil, err
	}
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Host: host, Port: port, Users: users, NKeyUsers: nkeyUsers,
		StoreDir: filepath.Join(cfg.DataDir, "nats")})
	if err != nil {
		return "", nil, nil, fmt.Errorf("embedded NATS on %s: %w", listen, err)
	}
	return srv.ClientURL(), ids, srv.Shutdown, nil
}

// existingIdentities are the identities of the data dir when no login is
// configured and every one of them exists; else nil.
func existingIdentities(cfg *config.Config) map[string]bus.Identity {
	if config.HasNATSLogin(cfg.NATS) || cfg.NATS.Token.Reveal() != "" || cfg.NATS.CredentialsFile != "" {
		return nil
	}
	out := map[string]bus.Identity{}
	for _, n := range identityNames() {
		id, err := bus.LoadIdentity(bus.IdentitiesDir(cfg.DataDir), n)
		if err != nil {
			return nil
		}
		out[n] = id
	}
	return out
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// newEnv connects (one connection per identity, or one shared), creates the
// streams and returns the Env every function's own Env is copied from.
func newEnv(ctx context.Context, o ServeOptions, cfg *config.Config, natsURL string, ids map[string]bus.Identity) (*fn.Env, *conns, error) {
	subjects, err := events.NewSubjects(cfg.NATS.Prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("nats.prefix: %w", err)
	}
	cs := &conns{url: natsURL, ids: ids, log: o.Log, subjects: &subjects}
	if ids == nil {
		co := connectOptions(cfg)
		co.Subjects = &subjects
		if cs.shared, err = bus.Connect(natsURL, co, o.Log); err != nil {
			return nil, nil, err
		}
	}
	remotes := fn.NewRemotes(cfg.Remotes, OpenRemote)
	env := &fn.Env{Config: cfg, Subjects: subjects, Log: o.Log, Now: o.Now,
		Pools: fn.NewPools(cfg.Pools, o.Log), Remotes: remotes,
		Repos:   fn.NewRepos(cfg.Remotes, remotes, repo.WithLogger(o.Log)),
		NATSURL: natsURL, HTTPListen: cmp.Or(o.HTTPListen, cfg.Gateway.Listen), Version: o.Version}
	if err := cs.ensureStreams(ctx, env.Topology()); err != nil {
		cs.closeAll(o.Log)
		return nil, nil, err
	}
	return env, cs, nil
}

func connectOptions(cfg *config.Config) bus.ConnectOptions {
	n := cfg.NATS
	return bus.ConnectOptions{Name: "xbr", CredsFile: n.CredentialsFile, NKeySeedFile: n.NKeyFile,
		User: n.User, Password: n.Password.Reveal(), Token: n.Token.Reveal(),
		CAFile: n.TLS.CA, CertFile: n.TLS.Cert, KeyFile: n.TLS.Key, CheckSources: true}
}

// functionEnvs are a copy of env per function, each with the connection of
// the function's identity and the queries it answers.
func functionEnvs(env *fn.Env, cs *conns, fns []fn.Function) ([]*fn.Env, error) {
	out := make([]*fn.Env, 0, len(fns))
	for _, f := range fns {
		conn, err := cs.forIdentity(f.Name)
		if err != nil {
			return nil, err
		}
		fe := *env
		fe.Conn, fe.API = conn, fn.RegisterAPI(env.API, f.API)
		out = append(out, &fe)
	}
	return out, nil
}

// runAll runs the functions, each with its Env, and each function's
// instance of the query service (the common queries and its own); the
// first failure stops all.
func runAll(ctx context.Context, envs []*fn.Env, fns []fn.Function) error {
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
	for i, f := range fns {
		start(f.Name+" api", func(ctx context.Context) error { return fn.ServeAPI(ctx, envs[i]) })
		start(f.Name, func(ctx context.Context) error { return f.Run(ctx, envs[i]) })
	}
	wg.Wait()
	if len(envs) > 0 {
		envs[0].Log.Info("stopped", "functions", len(fns))
	}
	return errors.Join(errs...)
}
