package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"xbr/shared/config"
)

func TestSecretRedacts(t *testing.T) {
	s := config.NewSecret("hunter2")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", s)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "password", s)
	js, _ := json.Marshal(map[string]any{"p": s})
	ym, _ := yaml.Marshal(map[string]any{"p": s})
	txt, _ := s.MarshalText()
	outputs := []string{s.String(), s.GoString(), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d|%10s", s, s, s, s, s, s, s, s, s),
		logs.String(), string(js), string(ym), string(txt)}
	for _, out := range outputs {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "***") {
			t.Errorf("not redacted: %q", out)
		}
	}
	if s.Reveal() != "hunter2" || !s.IsSet() || config.NewSecret("").IsSet() {
		t.Error("Reveal/IsSet")
	}
}

// Secret values never appear in errors, whatever goes wrong around them, nor
// when a loaded configuration is printed, logged or encoded.
func TestSecretsNeverLeak(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{
		"XBR_PW": "pw-Secret-1", "XBR_KEY": "AKIA-Secret-2", "XBR_S3": "s3-Secret-3", "XBR_HOOK": "hook-Secret-4",
		"XBR_NATS_PW": "nats-Secret-6",
	}
	fileSecret := "file-Secret-5"
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) {
		if k == "DIR" {
			return dir, true
		}
		v, ok := secrets[k]
		return v, ok
	}
	good := `nats: {url: "nats://n1:4222", user: u, password: "${XBR_NATS_PW}"}
pools: [{name: lab, url: "https://xcp", username: root, password: "${XBR_PW}"}]
remotes: [{name: s3, type: s3, endpoint: "http://s3:7070", bucket: bkt, access_key: "${XBR_KEY}", secret_key: "${XBR_S3}"}]
jobs: [{name: j, pools: [lab], remotes: [s3], schedules: [{name: d, cron: "0 2 * * *", retention: 1}]}]
gateway: {webhook_secret: "${XBR_HOOK}", mattermost_token_file: "${DIR}/token"}
`
	broken := []string{
		strings.Replace(good, `password: "${XBR_PW}"`, `password: "literal-Secret-7${"`, 1),
		strings.Replace(good, `password: "${XBR_PW}"`, `password: ["literal-Secret-7"]`, 1),
		strings.Replace(good, `password: "${XBR_PW}"`, `password: {a: literal-Secret-7}`, 1),
		strings.Replace(good, `"https://xcp"`, `"https://root:literal-Secret-7@xcp"`, 1),
		strings.Replace(good, `"https://xcp"`, `"https://root:literal-Secret-7@xcp x/%zz"`, 1),
		strings.Replace(good, `"nats://n1:4222"`, `"nats://u:literal-Secret-7@n1:4222"`, 1),
		strings.Replace(good, `"https://xcp"`, `"root:literal-Secret-7@xcp"`, 1),
		strings.Replace(good, `"nats://n1:4222"`, `"u:literal-Secret-7@n1:4222"`, 1),
		strings.Replace(good, `"http://s3:7070"`, `"u:literal-Secret-7@s3:7070"`, 1),
		strings.Replace(good, `password: "${XBR_PW}"`, `password: "literal-Secret-7`, 1),
		strings.Replace(good, `password: "${XBR_PW}"`, "password: |\n  literal-Secret-7\n bad", 1),
		strings.Replace(good, `mattermost_token_file: "${DIR}/token"`, `mattermost_token_file: "${DIR}/token", mattermost_token: "${XBR_PW}"`, 1),
		strings.Replace(good, `webhook_secret: "${XBR_HOOK}"`, `webhook_secret: "${XBR_HOOK}", webhook_secret: literal-Secret-7`, 1),
		strings.Replace(good, `retention: 1`, `retention: -1, cron: "0 99 * * *"`, 1) + "extra: literal-Secret-7\n",
		strings.Replace(good, `secret_key: "${XBR_S3}"`, `secret_key: "${XBR_S3}", secret_key_file: "${DIR}/none"`, 1),
	}
	for i, text := range broken {
		_, err := config.Parse("xbr.yaml", []byte(text), config.WithLookupEnv(lookup))
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		t.Logf("case %d: %v", i, err)
		assertNoSecret(t, fmt.Sprintf("case %d error", i), err.Error(), secrets, fileSecret, "literal-Secret-7")
	}
	c, err := config.Parse("xbr.yaml", []byte(good), config.WithLookupEnv(lookup))
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.MattermostToken.Reveal() != fileSecret || c.Remotes[0].AccessKey.Reveal() != "AKIA-Secret-2" {
		t.Fatal("secrets not loaded")
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c, "pool", c.Pools[0])
	js, _ := json.Marshal(c)
	ym, _ := yaml.Marshal(c)
	var summary bytes.Buffer
	if err := c.WriteSummary(&summary, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"fmt": fmt.Sprintf("%v %+v %#v", c, *c, *c), "slog": logs.String(),
		"json": string(js), "yaml": string(ym), "summary": summary.String()} {
		assertNoSecret(t, what, out, secrets, fileSecret)
	}
}

func assertNoSecret(t *testing.T, what, out string, secrets map[string]string, more ...string) {
	t.Helper()
	for _, v := range secrets {
		more = append(more, v)
	}
	for _, v := range more {
		if strings.Contains(out, v) || strings.Contains(out, "Secret-") {
			t.Errorf("%s reveals a secret:\n%s", what, out)
			return
		}
	}
}
