package tests

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"xbr/shared/config"
)

// The deployment tests read what runs xbr elsewhere — docker-compose.yml,
// deploy/kubernetes, deploy/systemd — and check it against the binary: every
// service runs functions the binary has, with a configuration that loads,
// and the images, ports, URLs and volumes agree.

// repoRoot is the module's root (the tests run in tests/).
const repoRoot = ".."

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Secrets  map[string]struct {
		Environment string `yaml:"environment"`
		File        string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   map[string]any    `yaml:"depends_on"`
	Profiles    []string          `yaml:"profiles"`
	Secrets     []any             `yaml:"secrets"` // names, or {source: name, ...}
	MemLimit    string            `yaml:"mem_limit"`
	CPUs        any               `yaml:"cpus"`
	Deploy      struct {
		Replicas  int `yaml:"replicas"`
		Resources struct {
			Limits struct {
				CPUs   any    `yaml:"cpus"`
				Memory string `yaml:"memory"`
			} `yaml:"limits"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// knownFunctions are the functions `xbr serve --help` lists.
func knownFunctions(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, code := xbr(t, ctx, nil, "serve", "--help")
	m := regexp.MustCompile(`(?m)^Functions: (.+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("xbr serve --help: exit %d, no Functions line:\n%s\n%s", code, out, errOut)
	}
	return strings.Split(strings.TrimSpace(m[1]), ", ")
}

// flagValue is the value of --name in args ("" when absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// servedFunctions checks `serve --functions` of args against known.
func servedFunctions(t *testing.T, where string, args, known []string) []string {
	t.Helper()
	list := flagValue(args, "--functions")
	if len(args) == 0 || args[0] != "serve" || list == "" {
		t.Errorf("%s: runs %q, want serve --functions <name>", where, args)
		return nil
	}
	fns := strings.Split(list, ",")
	for _, f := range fns {
		if !slices.Contains(known, f) {
			t.Errorf("%s: function %q does not exist (the binary has %v)", where, f, known)
		}
	}
	return fns
}

// readDotenv reads KEY=VALUE lines (comments and blank lines skipped).
func readDotenv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not KEY=VALUE", path, line)
		}
		out[k] = v
	}
	return out
}

var composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}`)

// interpolate resolves compose's ${VAR}, ${VAR:-default} and ${VAR:?error}
// from dotenv, failing on a required variable that is missing.
func interpolate(t *testing.T, where, s string, dotenv map[string]string) string {
	t.Helper()
	return composeVar.ReplaceAllStringFunc(s, func(ref string) string {
		m := composeVar.FindStringSubmatch(ref)
		if v, ok := dotenv[m[1]]; ok && v != "" {
			return v
		}
		if m[2] == "-" {
			return m[3]
		}
		t.Errorf("%s: %s is not set by the example env file", where, m[1])
		return ""
	})
}

// loadConfig loads a configuration exactly as a process whose environment
// is env would: a ${VAR} missing from env is an error.
func loadConfig(t *testing.T, where, path string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path, config.WithLookupEnv(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}))
	if err != nil {
		t.Fatalf("%s: configuration %s does not load: %v", where, path, err)
	}
	return cfg
}

// natsHosts are the host:port pairs of a comma-separated NATS URL list.
func natsHosts(t *testing.T, where, urls string) []string {
	t.Helper()
	var out []string
	for _, raw := range strings.Split(urls, ",") {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "nats" || u.Port() == "" {
			t.Errorf("%s: NATS URL %q is not nats://host:port", where, raw)
			continue
		}
		out = append(out, u.Host)
	}
	return out
}

func listenPort(t *testing.T, where, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: listen address %q: %v", where, addr, err)
	}
	return port
}

// TestDockerComposeRunsEveryFunctionOnTheCluster checks docker-compose.yml.
func TestDockerComposeRunsEveryFunctionOnTheCluster(t *testing.T) {
	known := knownFunctions(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	dotenv := readDotenv(t, filepath.Join(repoRoot, "deploy/compose/env.example"))
	natsServices := checkComposeNATS(t, cf, dotenv)
	images := map[string]bool{}
	byFunction := map[string]string{}
	for name, svc := range cf.Services {
		checkComposeVolumes(t, name, svc, cf)
		for dep := range svc.DependsOn {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not defined", name, dep)
			}
		}
		if len(svc.Command) == 0 || svc.Command[0] != "serve" {
			continue
		}
		images[svc.Image] = true
		for _, f := range servedFunctions(t, "service "+name, svc.Command, known) {
			if prev, dup := byFunction[f]; dup {
				t.Errorf("function %s runs in services %s and %s; scale one with deploy.replicas", f, prev, name)
			}
			byFunction[f] = name
		}
		checkComposeXBR(t, name, svc, cf, dotenv, natsServices)
		checkComposeConventions(t, name, svc, cf, dotenv)
	}
	if len(images) != 1 {
		t.Errorf("xbr services use images %v, want one image", images)
	}
	for _, f := range known {
		if _, ok := byFunction[f]; !ok {
			t.Errorf("function %s has no service", f)
		}
	}
	if svc := cf.Services[byFunction["export"]]; svc.Deploy.Replicas != 2 {
		t.Errorf("export runs %d replicas, want 2", svc.Deploy.Replicas)
	}
	if svc := cf.Services[byFunction["gateway"]]; !slices.Contains(svc.Ports, "8080:8080") {
		t.Errorf("gateway publishes %v, want 8080:8080", svc.Ports)
	}
}

// checkComposeXBR checks one xbr service: its NATS URLs name the NATS
// services, its configuration is mounted and loads with the environment the
// service gets, and agrees with the command line.
func checkComposeXBR(t *testing.T, name string, svc composeService, cf composeFile, dotenv map[string]string, natsServices []string) {
	t.Helper()
	where := "service " + name
	natsURL := flagValue(svc.Command, "--nats")
	hosts := natsHosts(t, where, natsURL)
	if want := len(natsServices); len(hosts) != want {
		t.Errorf("%s: --nats %q names %d servers, want the %d NATS services", where, natsURL, len(hosts), want)
	}
	for _, h := range hosts {
		host, port, _ := net.SplitHostPort(h)
		if !slices.Contains(natsServices, host) || port != "4222" {
			t.Errorf("%s: NATS server %s is not a NATS service's client port", where, h)
		}
	}
	cfgPath := flagValue(svc.Command, "--config")
	src := bindSource(svc.Volumes, cfgPath)
	if src == "" {
		t.Fatalf("%s: --config %s is not a mounted file", where, cfgPath)
	}
	env := map[string]string{}
	for k, v := range svc.Environment {
		env[k] = interpolate(t, where, v, dotenv)
	}
	body, err := os.ReadFile(filepath.Join(repoRoot, src))
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "xbr.yaml", withSecretFiles(t, string(body), "/run/secrets", composeSecrets(t, where, svc, cf, dotenv)))
	cfg := loadConfig(t, where, file, env)
	if cfg.NATS.URL != natsURL || cfg.NATS.StreamReplicas != len(natsServices) {
		t.Errorf("%s: config nats.url %q, stream_replicas %d; want %q and %d", where,
			cfg.NATS.URL, cfg.NATS.StreamReplicas, natsURL, len(natsServices))
	}
	if env["XBR_NATS_URL"] != natsURL {
		t.Errorf("%s: XBR_NATS_URL %q (what health checks and the CLI use) differs from --nats %q", where, env["XBR_NATS_URL"], natsURL)
	}
	if port := listenPort(t, where, cfg.Gateway.Listen); slices.Contains(svc.Command, "gateway") && port != "8080" {
		t.Errorf("%s: gateway listens on %s, want 8080", where, port)
	}
}

// bindSource is the host path bind-mounted at target ("" when none).
func bindSource(volumes []string, target string) string {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target && strings.HasPrefix(parts[0], "./") {
			return parts[0]
		}
	}
	return ""
}

// checkComposeVolumes: bind mounts exist, named volumes are declared.
func checkComposeVolumes(t *testing.T, name string, svc composeService, cf composeFile) {
	t.Helper()
	for _, v := range svc.Volumes {
		src, _, _ := strings.Cut(v, ":")
		switch {
		case strings.HasPrefix(src, "./"):
			if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
		case strings.HasPrefix(src, "/"):
			t.Errorf("service %s mounts host path %s; use a named volume", name, src)
		default:
			if _, ok := cf.Volumes[src]; !ok {
				t.Errorf("service %s uses volume %s, which is not declared", name, src)
			}
		}
	}
}

// checkComposeNATS checks the NATS services form one JetStream cluster with
// routes to each other, and returns their names.
func checkComposeNATS(t *testing.T, cf composeFile, dotenv map[string]string) []string {
	t.Helper()
	var names []string
	for name, svc := range cf.Services {
		if strings.HasPrefix(svc.Image, "nats:") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) != 3 {
		t.Fatalf("NATS services %v, want 3", names)
	}
	minor := embeddedNATSMinor(t)
	for _, name := range names {
		svc := cf.Services[name]
		checkNATSImage(t, "NATS service "+name, svc.Image, minor)
		conf := bindSource(svc.Volumes, flagValue(svc.Command, "--config"))
		if conf == "" {
			t.Fatalf("NATS service %s: --config is not a mounted file", name)
		}
		for k, v := range svc.Environment {
			t.Setenv(k, interpolate(t, "NATS service "+name, v, dotenv))
		}
		opts, err := natsserver.ProcessConfigFile(filepath.Join(repoRoot, conf))
		if err != nil {
			t.Fatalf("NATS service %s: %s: %v", name, conf, err)
		}
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Hostname())
		}
		slices.Sort(routes)
		if !opts.JetStream || opts.Port != 4222 || opts.Cluster.Port != 6222 || !slices.Equal(routes, names) {
			t.Errorf("NATS service %s: jetstream %v, port %d, cluster port %d, routes to %v; want JetStream, 4222, 6222, routes to %v",
				name, opts.JetStream, opts.Port, opts.Cluster.Port, routes, names)
		}
		if !hasNamedVolume(svc.Volumes, opts.StoreDir) {
			t.Errorf("NATS service %s: the JetStream store %s is not on a named volume", name, opts.StoreDir)
		}
	}
	return names
}

func hasNamedVolume(volumes []string, target string) bool {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target && !strings.HasPrefix(parts[0], ".") && !strings.HasPrefix(parts[0], "/") {
			return true
		}
	}
	return false
}

// TestSystemdUnitRunsTheFunctionItIsNamedFor checks deploy/systemd.
func TestSystemdUnitRunsTheFunctionItIsNamedFor(t *testing.T) {
	known := knownFunctions(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy/systemd/xbr@.service"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	args := strings.Fields(keys["ExecStart"])
	if len(args) < 2 || args[0] != "/usr/local/bin/xbr" {
		t.Fatalf("ExecStart %q does not run /usr/local/bin/xbr", keys["ExecStart"])
	}
	for _, f := range known {
		inst := strings.ReplaceAll(strings.Join(args[1:], " "), "%i", f)
		servedFunctions(t, "xbr@"+f+".service", strings.Fields(inst), known)
	}
	if keys["EnvironmentFile"] != "/etc/xbr/xbr.env" || flagValue(args, "--config") != "/etc/xbr/xbr.yaml" {
		t.Errorf("unit reads %s and %s; want EnvironmentFile=/etc/xbr/xbr.env and --config /etc/xbr/xbr.yaml",
			keys["EnvironmentFile"], flagValue(args, "--config"))
	}
	env := readDotenv(t, filepath.Join(repoRoot, "deploy/systemd/xbr.env.example"))
	loadConfig(t, "deploy/xbr.example.yaml with xbr.env.example", filepath.Join(repoRoot, "deploy/xbr.example.yaml"), env)
}

// TestSystemdDocumentationExists: every Documentation= of the systemd units
// names a manual page that `make install` installs (systemd-analyze verify
// fails on a missing one).
func TestSystemdDocumentationExists(t *testing.T) {
	stage := t.TempDir()
	install := exec.Command("make", "-C", repoRoot, "install", "DESTDIR="+stage, "PREFIX=/usr")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	units, err := filepath.Glob(filepath.Join(repoRoot, "deploy/systemd/*.[st]*"))
	if err != nil || len(units) == 0 {
		t.Fatalf("no units in deploy/systemd: %v", err)
	}
	man := regexp.MustCompile(`^man:([a-z0-9@_.-]+)\(([1-8])\)$`)
	checked := 0
	for _, unit := range units {
		data, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			refs, ok := strings.CutPrefix(line, "Documentation=")
			if !ok {
				continue
			}
			for _, ref := range strings.Fields(refs) {
				m := man.FindStringSubmatch(ref)
				if m == nil {
					t.Errorf("%s: Documentation=%s: not a man: reference this test can check", filepath.Base(unit), ref)
					continue
				}
				page := filepath.Join(stage, "usr/share/man", "man"+m[2], m[1]+"."+m[2])
				if _, err := os.Stat(page); err != nil {
					t.Errorf("%s: Documentation=%s: make install did not install it: %v", filepath.Base(unit), ref, err)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no Documentation= in deploy/systemd: nothing checked")
	}
	if _, err := os.Stat(filepath.Join(stage, "usr/bin/xbr")); err != nil {
		t.Errorf("make install did not install the binary: %v", err)
	}
}

// checkComposeConventions checks one xbr service against the deployment
// conventions: a health check of its own process, resource limits, and
// secrets as files, never in its environment.
func checkComposeConventions(t *testing.T, name string, svc composeService, cf composeFile, dotenv map[string]string) {
	t.Helper()
	where := "service " + name
	listen := flagValue(svc.Command, "--health-listen")
	switch {
	case listen == "":
		t.Errorf("%s: no --health-listen: its health check cannot ask its own process", where)
	case svc.Healthcheck == nil || len(svc.Healthcheck.Test) < 3 || svc.Healthcheck.Test[0] != "CMD":
		t.Errorf("%s: health check %v, want [CMD <tool> ... <its /readyz URL>]", where, svc.Healthcheck)
	default:
		test := svc.Healthcheck.Test
		if tool := test[1]; tool != "xbr" && !imageHas(t, tool) {
			t.Errorf("%s: health check runs %s, which the image (Dockerfile) does not install", where, tool)
		}
		checkProbeURL(t, where, test[len(test)-1], listen, "/readyz", "/healthz")
	}
	limits := svc.Deploy.Resources.Limits
	if (limits.Memory == "" && svc.MemLimit == "") || (limits.CPUs == nil && svc.CPUs == nil) {
		t.Errorf("%s: no memory and CPU limits (deploy.resources.limits or mem_limit/cpus)", where)
	}
	env := map[string]string{}
	for k, v := range svc.Environment {
		env[k] = interpolate(t, where, v, dotenv)
	}
	secrets := composeSecrets(t, where, svc, cf, dotenv)
	checkNoSecretEnv(t, where, env, secrets)
	checkSecretFileEnv(t, where, env, "/run/secrets", secrets)
}

// composeSecrets are the secrets service svc mounts under /run/secrets, by
// name, with the values the example env file gives them.
func composeSecrets(t *testing.T, where string, svc composeService, cf composeFile, dotenv map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range svc.Secrets {
		name, _ := s.(string)
		if m, ok := s.(map[string]any); ok {
			name, _ = m["source"].(string)
		}
		def, ok := cf.Secrets[name]
		switch {
		case !ok:
			t.Errorf("%s: secret %q is not declared under secrets:", where, name)
		case def.Environment != "":
			v, ok := dotenv[def.Environment]
			if !ok || v == "" {
				t.Errorf("%s: secret %s comes from %s, which the example env file does not set", where, name, def.Environment)
			}
			out[name] = v
		default:
			t.Errorf("%s: secret %s: want an environment source filled from .env (file: %q)", where, name, def.File)
		}
	}
	return out
}
