package config_test

import (
	"testing"

	"xbr/shared/config"
)

// TestEmbeddedNATSLogin is issue 12 finding 1 for `config check`: the
// embedded server may only listen beyond loopback with a login.
func TestEmbeddedNATSLogin(t *testing.T) {
	bad := []struct{ name, nats, want string }{
		{"open on every interface", "nats:\n  listen: 0.0.0.0:4222\n",
			`xbr.yaml:2: nats.listen: "0.0.0.0:4222": the embedded NATS would take connections from other hosts: set nats.user and nats.password (or nats.nkey_file), or listen on 127.0.0.1`},
		{"open on a host name", "nats:\n  listen: backup.example:4222\n",
			`xbr.yaml:2: nats.listen: "backup.example:4222": the embedded NATS would take connections from other hosts: set nats.user and nats.password (or nats.nkey_file), or listen on 127.0.0.1`},
		{"token with the embedded server", "nats:\n  listen: 0.0.0.0:4222\n  token: abc\n",
			"xbr.yaml:2: nats.listen: \"0.0.0.0:4222\": the embedded NATS would take connections from other hosts: set nats.user and nats.password (or nats.nkey_file), or listen on 127.0.0.1\n" +
				"xbr.yaml:3: nats.token: the embedded NATS takes nats.user/password or nats.nkey_file (a token or credentials file is for nats.url)"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(edit(t, "pools:\n", tt.nats+"pools:\n")), env("XBR_PW", pw))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
	for _, ok := range []string{
		"nats:\n  listen: 127.0.0.1:4222\n",
		"nats:\n  listen: \"[::1]:4222\"\n",
		"nats:\n  listen: 0.0.0.0:4222\n  user: xbr\n  password: ${XBR_PW}\n",
		"nats:\n  url: nats://nats.example:4222\n  token: abc\n",
	} {
		if _, err := config.Parse("xbr.yaml", []byte(edit(t, "pools:\n", ok+"pools:\n")), env("XBR_PW", pw)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
