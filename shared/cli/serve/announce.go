package serve

import (
	"log/slog"
	"net"
	"strconv"
	"strings"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/redact"
)

// announceDemo logs, first thing (before the functions connect, each with a
// line of its own), where the demo's parts are: the simulated pool, the
// remote, the demo jobs, the backbone and the web page.
func announceDemo(log *slog.Logger, cfg *config.Config, dm *demo, natsURL, web string) {
	user, _ := dm.sim.Credentials()
	jobs := make([]string, 0, len(cfg.Jobs))
	for _, j := range cfg.Jobs {
		jobs = append(jobs, j.Name)
	}
	log.Info("xbr demo: no --config given, so this is a self-contained demo",
		"xapi_simulator", dm.url, "xapi_user", user, "remote", cfg.Remotes[0].Path,
		"demo_jobs", strings.Join(jobs, ","), "nats", redact.URLs(natsURL), "web", "http://"+web)
	log.Info("to back up a real pool, write an xbr.yaml (see deploy/xbr.example.yaml), " +
		"check it with 'xbr config check --config xbr.yaml' and run 'xbr serve --config xbr.yaml'")
}

// announce logs that every function runs, and where.
func announce(log *slog.Logger, cfg *config.Config, env *fn.Env, fns []fn.Function) {
	names := make([]string, 0, len(fns))
	for _, f := range fns {
		names = append(names, f.Name)
	}
	log.Info("xbr serving", "version", env.Version, "functions", names, "nats", redact.URLs(env.NATSURL),
		"data_dir", cfg.DataDir, "web", "http://"+env.HTTPListen, "config", configName(cfg))
}

func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "(embedded demo)"
	}
	return cfg.File
}

// splitHostPort parses a listen address; an empty host means 127.0.0.1.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == 0 {
		port = -1 // any free port (nats-server reads 0 as its default 4222)
	}
	return host, port, nil
}
