package config

import (
	"net"
	"strings"
)

// HasNATSLogin reports whether n configures a login the embedded server
// can enforce: user and password, or an NKey.
func HasNATSLogin(n NATS) bool {
	return (n.User != "" && n.Password.IsSet()) || n.NKeyFile != ""
}

// checkEmbeddedLogin refuses an embedded server reachable from other hosts
// without a login, and logins the embedded server cannot take.
func (c *Config) checkEmbeddedLogin(p *problems) {
	n := c.NATS
	if n.URL != "" {
		return
	}
	if !p.reported["nats.listen"] && !loopbackListen(n.Listen) && !HasNATSLogin(n) {
		p.addValue("nats.listen", n.Listen, "the embedded NATS would take connections from other hosts: "+
			"set nats.user and nats.password (or nats.nkey_file), or listen on 127.0.0.1")
	}
	const why = "the embedded NATS takes nats.user/password or nats.nkey_file (a token or credentials file is for nats.url)"
	if n.Token.IsSet() {
		p.add("nats.token", why)
	}
	if n.CredentialsFile != "" {
		p.add("nats.credentials_file", why)
	}
}

func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
