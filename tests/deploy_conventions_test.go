package tests

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The deployment conventions every function's container follows (issue 17
// item 11): a probe of its own process (serve --health-listen), resource
// limits, secrets as mounted files rather than environment variables, and a
// NATS image of the minor version xbr embeds.

// secretName matches environment variable names that would carry a secret;
// a *_FILE variable names a file and is fine.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|SECRET|TOKEN|_KEY$|CREDENTIAL)`)

// checkNoSecretEnv fails when env carries a secret: by its name, or by a
// value that is one of the secrets.
func checkNoSecretEnv(t *testing.T, where string, env map[string]string, secrets map[string]string) {
	t.Helper()
	for k, v := range env {
		if secretName.MatchString(k) && !strings.HasSuffix(k, "_FILE") {
			t.Errorf("%s: environment variable %s looks like a secret; mount it as a file (*_file in xbr.yaml)", where, k)
		}
		for name, s := range secrets {
			if s != "" && strings.Contains(v, s) {
				t.Errorf("%s: environment variable %s holds the value of secret %s", where, k, name)
			}
		}
	}
}

// checkSecretFileEnv: every *_FILE variable pointing under mountDir names
// a secret mounted there (what the CLI in the container reads).
func checkSecretFileEnv(t *testing.T, where string, env map[string]string, mountDir string, secrets map[string]string) {
	t.Helper()
	for k, v := range env {
		name, ok := strings.CutPrefix(v, strings.TrimSuffix(mountDir, "/")+"/")
		if !strings.HasSuffix(k, "_FILE") || !ok {
			continue
		}
		if _, mounted := secrets[name]; !mounted {
			t.Errorf("%s: %s=%s, but no secret %s is mounted in %s", where, k, v, name, mountDir)
		}
	}
}

// embeddedNATSMinor is "2.15" for nats-server/v2 v2.15.x in go.mod.
func embeddedNATSMinor(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\d+\.\d+)\.`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod does not require github.com/nats-io/nats-server/v2")
	}
	return string(m[1])
}

// checkNATSImage: image is the official nats image tagged with the
// embedded server's minor (nats:2.15-alpine, nats:2.15.2, ...).
func checkNATSImage(t *testing.T, where, image, minor string) {
	t.Helper()
	tag, ok := strings.CutPrefix(image, "nats:")
	m := regexp.MustCompile(`^(\d+\.\d+)(\.\d+)?(-[a-z0-9.]+)?$`).FindStringSubmatch(tag)
	if !ok || m == nil || m[1] != minor {
		t.Errorf("%s: NATS image %q; want nats:%s[-variant], the minor of the nats-server xbr embeds (go.mod)", where, image, minor)
	}
}

// checkProbeURL: raw is an http URL of the process's own health listener
// (listen, from --health-listen) with path one of paths.
func checkProbeURL(t *testing.T, where, raw, listen string, paths ...string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		t.Errorf("%s: health check URL %q is not http", where, raw)
		return
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Errorf("%s: --health-listen %q: %v", where, listen, err)
		return
	}
	if host == "0.0.0.0" || host == "" {
		host = "127.0.0.1"
	}
	ok := false
	for _, p := range paths {
		ok = ok || u.Path == p
	}
	if u.Host != net.JoinHostPort(host, port) || !ok {
		t.Errorf("%s: health check %s does not ask this process's health listener %s for %v", where, raw, listen, paths)
	}
}

// imageHas reports whether the xbr image (the Dockerfile's runtime stage)
// installs tool.
func imageHas(t *testing.T, tool string) bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`apt-get install [^\n]*\b` + regexp.QuoteMeta(tool) + `\b`).Match(data)
}

// withSecretFiles writes each secret to dir/<name> and returns body with
// mountDir (where the secrets are mounted) pointing at dir: the
// configuration as the container reads it.
func withSecretFiles(t *testing.T, body, mountDir string, secrets map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return strings.ReplaceAll(body, strings.TrimSuffix(mountDir, "/")+"/", dir+"/")
}
