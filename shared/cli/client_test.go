package cli_test

import (
	"strings"
	"testing"

	"xbr/shared/bus/natsserver"
)

// TestClientSaysWhenNoServerAnswers: with no server at --nats, a client
// command says that first (is `xbr serve` running, at which address), and
// the login hint (no login, no client identity under --data-dir) comes
// second, only when no login was given; a server that refuses the
// missing login still gets the login hint alone.
func TestClientSaysWhenNoServerAnswers(t *testing.T) {
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir(),
		Users: []natsserver.User{{Name: "someone", Password: "pw-of-someone"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	dataDir := t.TempDir()
	noServer := "xbr: no NATS server answered at nats://127.0.0.1:1"
	loginHint := "no NATS login given and no client identity under --data-dir " + dataDir
	for _, tc := range []struct {
		name      string
		args      []string
		want      []string
		wantFirst string
		not       string
	}{
		{"no server, no login", []string{"--nats", "nats://127.0.0.1:1"}, []string{"xbr serve", "--nats", loginHint}, noServer, ""},
		{"no server, a login", []string{"--nats", "nats://127.0.0.1:1", "--nats-user", "someone"}, []string{"xbr serve", "--nats"}, noServer, "login"},
		{"a server, no login", []string{"--nats", srv.ClientURL()}, []string{loginHint}, "xbr: ", "no NATS server answered"},
	} {
		t.Setenv("XBR_NATS_PASSWORD", "pw-of-someone")
		code, out, errOut := run(t, append([]string{"jobs", "ls", "--data-dir", dataDir}, tc.args...)...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, tc.wantFirst) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and stderr starting with %q", tc.name, code, out, errOut, tc.wantFirst)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, errOut, w)
			}
		}
		if tc.not != "" && strings.Contains(errOut, tc.not) {
			t.Errorf("%s: stderr %q has %q", tc.name, errOut, tc.not)
		}
		if strings.Contains(errOut, "pw-of-someone") {
			t.Errorf("%s: stderr %q shows the password", tc.name, errOut)
		}
	}
}
