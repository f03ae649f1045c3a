package cli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"xbr/shared/testsupport"
)

// jsonError is what a --json command that fails prints on stdout.
type jsonError struct {
	Type     string `json:"type"`
	Error    string `json:"error"`
	ExitCode *int   `json:"exit_code"`
	Data     any    `json:"data"`
}

// TestJSONCommandsFailInJSON: a command run with --json that fails says so
// on stdout in JSON too, so a script reading stdout sees the failure and
// why: a command that prints one document prints {"error", "exit_code"}
// instead; a command that prints a stream (run, restore, healthcheck, dr
// failover) ends it with the "result" object its help promises, with the
// error and the exit code. The message stays on stderr, the exit code is
// the command's.
func TestJSONCommandsFailInJSON(t *testing.T) {
	nats := testsupport.StartNATS(t).NATS().ConnectedUrl() // a backbone with no xbr server on it
	client := []string{"--json", "--data-dir", t.TempDir(), "--timeout", "200ms", "--nats"}
	id := "nfs:0c0ffee0-0000-4000-8000-000000000001/20260501T020000Z"
	for _, tc := range []struct {
		args   []string
		stream bool
	}{
		{append([]string{"backups", "ls", "--remote", "nosuch"}, append(client, "nats://127.0.0.1:1")...), false},
		{append([]string{"backups", "ls", "--remote", "nosuch"}, append(client, nats)...), false},
		{append([]string{"jobs", "ls"}, append(client, "nats://127.0.0.1:1")...), false},
		{append([]string{"history"}, append(client, "nats://127.0.0.1:1")...), false},
		{append([]string{"history", "--run", "nosuch"}, append(client, nats)...), false},
		{append([]string{"protection"}, append(client, nats)...), false},
		{append([]string{"dr", "ls"}, append(client, nats)...), false},
		{append([]string{"verify", id}, append(client, nats)...), false},
		{[]string{"verify", "--json"}, false},
		{[]string{"config", "check", "--json", "--config", "a.yaml", "b.yaml"}, false},
		{append([]string{"run", "nightly"}, append(client, nats)...), true},
		{append([]string{"restore", id, "--sr", "Local storage"}, append(client, nats)...), true},
		{append([]string{"healthcheck", id, "--sr", "Local storage"}, append(client, nats)...), true},
		{append([]string{"dr", "failover", "web-1", "--yes"}, append(client, "nats://127.0.0.1:1")...), true},
	} {
		name := "xbr " + strings.Join(tc.args, " ")
		code, out, errOut := run(t, tc.args...)
		msg := strings.TrimPrefix(strings.TrimSuffix(errOut, "\n"), "xbr: ")
		if code == 0 || msg == errOut || msg == "" {
			t.Errorf("%s: exit %d, stderr %q; want a failure named on stderr", name, code, errOut)
			continue
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !tc.stream && len(lines) != 1 {
			t.Errorf("%s: stdout %q; want one JSON object", name, out)
			continue
		}
		var got jsonError
		dec := json.NewDecoder(bytes.NewReader([]byte(lines[len(lines)-1])))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Errorf("%s: stdout %q: the last line is not the JSON error: %v", name, out, err)
			continue
		}
		wantType := ""
		if tc.stream {
			wantType = "result"
		}
		if got.Type != wantType || got.Error != msg || got.ExitCode == nil || *got.ExitCode != code || got.Data != nil {
			t.Errorf("%s: exit %d, stdout %q; want {\"type\": %q, \"error\": %q, \"exit_code\": %d}", name, code, out, wantType, msg, code)
		}
	}
}

// TestJSONCommandsWithoutJSONPrintNoError: without --json a failing
// command prints nothing on stdout, as before.
func TestJSONCommandsWithoutJSONPrintNoError(t *testing.T) {
	code, out, errOut := run(t, "backups", "ls", "--data-dir", t.TempDir(), "--nats", "nats://127.0.0.1:1")
	if code != 1 || out != "" || !strings.Contains(errOut, "no NATS server answered") {
		t.Errorf("backups ls: exit %d, stdout %q, stderr %q; want exit 1, nothing on stdout", code, out, errOut)
	}
}
