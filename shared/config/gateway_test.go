package config_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/config"
)

// Finding 9: a page that can restore VMs and fail over must not listen
// beyond loopback without a login, unless anonymity is chosen in writing.
func TestGatewayExposedWithoutLogin(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("alice:$2y$10$abcdefghijklmnopqrstuuJ3qVZ4cB7k1vQ0w1y2z3A4B5C6D7E8F\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ gateway, want string }{
		{"{listen: 127.0.0.1:8080}", ""},
		{"{listen: '[::1]:8080'}", ""},
		{"{listen: localhost:8080}", ""},
		{"{listen: 0.0.0.0:8080}", "gateway.listen: \"0.0.0.0:8080\": listens beyond loopback with no login"},
		{"{listen: ':8080'}", "gateway.listen: \":8080\": listens beyond loopback with no login"},
		{"{listen: 192.168.1.5:8080}", "listens beyond loopback with no login"},
		{"{listen: 0.0.0.0:8080, allow_anonymous: true}", ""},
		{"{listen: 0.0.0.0:8080, users_file: " + users + "}", ""},
		{"{listen: 0.0.0.0:8080, auth: {proxy_header: X-Forwarded-User, trusted_proxies: [10.0.0.0/8, 192.168.1.1]}}", ""},
		{"{listen: 0.0.0.0:8080, auth: {proxy_header: X-Forwarded-User}}", "gateway.auth.trusted_proxies: missing"},
		{"{auth: {proxy_header: X-Forwarded-User, trusted_proxies: [10.0.0.0/33]}}", `gateway.auth.trusted_proxies[0]: "10.0.0.0/33": not an IP address or CIDR`},
		{"{auth: {proxy_header: X-Forwarded-User, trusted_proxies: ['fe80::1%eth0']}}", `gateway.auth.trusted_proxies[0]: "fe80::1%eth0": an address with a zone`},
		{"{auth: {proxy_header: 'bad header', trusted_proxies: [10.0.0.1]}}", `gateway.auth.proxy_header: "bad header": not an HTTP header name`},
		{"{users_file: /nonexistent/users}", "gateway.users_file: \"/nonexistent/users\": cannot read"},
		{"{public_names: [xbr.example.com, 'xbr.example.com:8443']}", ""},
		{"{public_names: ['http://xbr.example.com']}", `gateway.public_names[0]: "http://xbr.example.com": not a host or host:port`},
		{"{chat_response_hosts: [hooks.slack.com, 'chat.example.com:8065']}", ""},
		{"{chat_response_hosts: ['https://chat.example.com/hooks']}", `gateway.chat_response_hosts[0]: "https://chat.example.com/hooks": not a host or host:port`},
	}
	for _, tc := range tests {
		t.Run(tc.gateway, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(base+"gateway: "+tc.gateway+"\n"), env("XBR_PW", pw))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestChatResponseAllowed: Slack's host by default; an entry without a port
// allows the host on any port, one with a port that port only.
func TestChatResponseAllowed(t *testing.T) {
	g := config.Gateway{ChatResponseHosts: config.DefaultChatResponseHosts()}
	if !g.ChatResponseAllowed("hooks.slack.com") || !g.ChatResponseAllowed("HOOKS.slack.com:443") || g.ChatResponseAllowed("10.0.0.1") {
		t.Error("the default list is not Slack's host alone")
	}
	g.ChatResponseHosts = []string{"chat.example.com:8065"}
	if !g.ChatResponseAllowed("chat.example.com:8065") || g.ChatResponseAllowed("chat.example.com:22") || g.ChatResponseAllowed("chat.example.com") {
		t.Error("an entry with a port allows another port")
	}
}

// A trusted proxy written IPv4-mapped matches the peer as the gateway reads
// it (unmapped, 10.0.0.1), not only a peer that never arrives that way.
func TestParsePrefixUnmapsIPv4(t *testing.T) {
	for s, peer := range map[string]string{"::ffff:10.0.0.1": "10.0.0.1", "::ffff:10.0.0.0/104": "10.1.2.3", "10.0.0.0/8": "10.9.9.9"} {
		p, err := config.ParsePrefix(s)
		if err != nil || !p.Contains(netip.MustParseAddr(peer)) {
			t.Errorf("ParsePrefix(%q) = %v, %v: does not contain the peer %s", s, p, err, peer)
		}
	}
}
