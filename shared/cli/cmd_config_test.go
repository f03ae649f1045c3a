package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/cli"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func setExampleEnv(t *testing.T) {
	for _, k := range []string{"XBR_NATS_PASSWORD", "XBR_LAB_PASSWORD", "XBR_STANDBY_PASSWORD", "XBR_S3_KEY",
		"XBR_S3_SECRET", "XBR_WEBHOOK_SECRET", "XBR_SLACK_SECRET", "XBR_MATTERMOST_TOKEN"} {
		t.Setenv(k, "value-of-"+k)
	}
}

func TestConfigCheckAcceptsTheExample(t *testing.T) {
	setExampleEnv(t)
	code, out, errOut := run(t, "config", "check", "--config", "../../deploy/xbr.example.yaml", "--at", "2026-05-01T12:00:00Z")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	// 2026-05-01 is a Friday; 12:00 UTC is 14:00 in Paris and 08:00 in New York.
	for _, want := range []string{
		"../../deploy/xbr.example.yaml: OK\n",
		"pools (2):", "lab", "https://xcp-master.lab.example:443 as root, certificate pinned",
		"remotes (2):", "nfs", "dir /mnt/backups", "s3 http://127.0.0.1:7070 bucket backups prefix xbr/lab",
		"jobs (4):",
		"incremental, pools lab, repository on nfs, cbt enable, concurrency 4",
		`"0 2 * * *" Europe/Paris, keep 7, next 2026-05-02 02:00 CEST`,
		`"30 3 * * SUN" Europe/Paris, keep 4, disabled`,
		`"15 8-18 * * MON-FRI" America/New_York, keep 10 snapshots, next 2026-05-01 08:15 EDT`,
		`"0 23 * * *" UTC, keep 2 copies, next 2026-05-01 23:00 UTC`,
		"replicate, pools lab, to standby sr Local storage, concurrency 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "value-of-") {
		t.Errorf("summary prints a secret:\n%s", out)
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	text := `pools:
  - name: lab
    url: https://xcp
    username: root
    password: ${XBR_TEST_UNSET_PASSWORD}
jobs:
  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: daily, cron: "0 25 * * *", timezone: Mars/Olympus, retention: 3}
`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "config", "check", "--config", file)
	want := file + ":5: pools[0].password: environment variable XBR_TEST_UNSET_PASSWORD is not set\n" +
		file + `:9: jobs[0].remotes[0]: "nfs": no remote has this name` + "\n" +
		file + `:11: jobs[0].schedules[0].cron: "0 25 * * *": hour 25 is out of range 0-23` + "\n" +
		file + `:11: jobs[0].schedules[0].timezone: "Mars/Olympus": not an IANA time zone (e.g. Europe/Paris, UTC)` + "\n" +
		file + ": 4 problem(s)\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out, errOut, want)
	}
}

func TestConfigCheckFileFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XBR_CONFIG", filepath.Join(dir, "missing.yaml"))
	code, out, errOut := run(t, "config", "check")
	want := "xbr: read config: open " + filepath.Join(dir, "missing.yaml") + ": no such file or directory\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant %q", code, out, errOut, want)
	}
	setExampleEnv(t)
	t.Setenv("XBR_CONFIG", "../../deploy/xbr.example.yaml")
	if code, _, errOut := run(t, "config", "check"); code != 0 {
		t.Errorf("XBR_CONFIG not used: exit %d, %s", code, errOut)
	}
}

func TestConfigCheckBadAt(t *testing.T) {
	code, _, errOut := run(t, "config", "check", "--at", "tomorrow")
	if code != 2 || !strings.Contains(errOut, `--at "tomorrow": not an RFC 3339 time`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// unsetExampleEnv makes sure no secret of the example can be resolved.
func unsetExampleEnv(t *testing.T) {
	setExampleEnv(t) // restores the environment after the test
	for _, k := range []string{"XBR_NATS_PASSWORD", "XBR_LAB_PASSWORD", "XBR_STANDBY_PASSWORD", "XBR_S3_KEY",
		"XBR_S3_SECRET", "XBR_WEBHOOK_SECRET", "XBR_SLACK_SECRET", "XBR_MATTERMOST_TOKEN"} {
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfigCheckNoSecrets: on a machine without the secrets (CI, a
// reviewer's laptop), --no-secrets checks the shape and the references of
// the example and passes; without it, every unset variable is a problem.
func TestConfigCheckNoSecrets(t *testing.T) {
	unsetExampleEnv(t)
	const example = "../../deploy/xbr.example.yaml"
	if code, _, errOut := run(t, "config", "check", example); code != 1 || !strings.Contains(errOut, "XBR_LAB_PASSWORD is not set") {
		t.Errorf("config check with no secrets set: exit %d, stderr:\n%s", code, errOut)
	}
	code, out, errOut := run(t, "config", "check", "--no-secrets", example, "--at", "2026-05-01T12:00:00Z")
	if code != 0 || errOut != "" || !strings.Contains(out, example+": OK (secrets not resolved)\n") {
		t.Fatalf("config check --no-secrets: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	file := filepath.Join(t.TempDir(), "bad.yaml")
	text := `pools:
  - name: lab
    url: https://xcp
    username: root
    password: ${XBR_LAB_PASSWORD
    password_file: /nonexistent/secret
jobs:
  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}
`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, errOut = run(t, "config", "check", "--no-secrets", file)
	want := file + ":5: pools[0].password: malformed ${VAR} reference (a literal value containing ${ must come from a _file)\n" +
		file + ":6: pools[0].password_file: set password or password_file, not both\n" +
		file + `:10: jobs[0].remotes[0]: "nfs": no remote has this name` + "\n" +
		file + ": 3 problem(s)\n"
	if errOut != want {
		t.Errorf("config check --no-secrets of a bad file:\n%s\nwant:\n%s", errOut, want)
	}
	if code, _, errOut := run(t, "config", "check", "--config", file, "other.yaml"); code != 2 || !strings.Contains(errOut, "not both") {
		t.Errorf("--config and a FILE: exit %d, %s", code, errOut)
	}
}

// TestConfigCheckJSON: --json gives the same verdict as the text, with each
// problem's line, field and value, and each schedule's next fire in its own
// zone; the exit status does not change.
func TestConfigCheckJSON(t *testing.T) {
	code, out, _ := run(t, "config", "check", "--no-secrets", "--json", "../../deploy/xbr.example.yaml", "--at", "2026-05-01T12:00:00Z")
	var ok struct {
		OK       bool `json:"ok"`
		Problems []any
		Jobs     []struct {
			Name      string
			Schedules []struct {
				Name string
				Next *time.Time
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &ok); err != nil || code != 0 || !ok.OK || len(ok.Problems) != 0 {
		t.Fatalf("example: exit %d, %v:\n%s", code, err, out)
	}
	next := ok.Jobs[0].Schedules[0].Next
	if ok.Jobs[0].Name != "nightly" || next == nil || next.Format(time.RFC3339) != "2026-05-02T02:00:00+02:00" {
		t.Errorf("first schedule: %+v", ok.Jobs[0])
	}
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("pools: []\njobs:\n  - name: j\n    mode: fulll\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "config", "check", "--json", file)
	var bad struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Line    int
			Field   string
			Value   *string
			Message string
		}
	}
	if err := json.Unmarshal([]byte(out), &bad); err != nil || code != 1 || bad.OK {
		t.Fatalf("bad file: exit %d, %v:\n%s", code, err, out)
	}
	found := false
	for _, p := range bad.Problems {
		found = found || (p.Line == 4 && p.Field == "jobs[0].mode" && p.Value != nil && *p.Value == "fulll")
	}
	if !found {
		t.Errorf("no problem at line 4 naming jobs[0].mode = fulll: %+v", bad.Problems)
	}
}
