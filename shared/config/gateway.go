package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// check validates the gateway's section: its address, its login, and that
// a page reachable beyond loopback asks who is there.
func (g Gateway) check(p *problems) {
	p.listen("gateway.listen", g.Listen)
	for i, n := range g.PublicNames {
		if !validHostName(n) {
			p.addValue(fmt.Sprintf("gateway.public_names[%d]", i), n, "not a host or host:port (e.g. xbr.example.com)")
		}
	}
	for i, n := range g.ChatResponseHosts {
		if !validHostName(n) {
			p.addValue(fmt.Sprintf("gateway.chat_response_hosts[%d]", i), n, "not a host or host:port (e.g. hooks.slack.com)")
		}
	}
	p.readable("gateway.users_file", g.UsersFile)
	if g.HistoryRuns < 0 {
		p.addValue("gateway.history_runs", strconv.Itoa(g.HistoryRuns), "must be 0 (the default, 100) or more")
	}
	a := g.Auth
	if a.ProxyHeader != "" && !validHeaderName(a.ProxyHeader) {
		p.addValue("gateway.auth.proxy_header", a.ProxyHeader, "not an HTTP header name")
	}
	if a.ProxyHeader != "" && len(a.TrustedProxies) == 0 {
		p.add("gateway.auth.trusted_proxies", "missing (the proxy_header is believed only from these peers)")
	}
	if a.ProxyHeader == "" && len(a.TrustedProxies) > 0 {
		p.add("gateway.auth.proxy_header", "missing (trusted_proxies name the peers that set it)")
	}
	for i, c := range a.TrustedProxies {
		if _, err := ParsePrefix(c); err != nil {
			why := "not an IP address or CIDR (e.g. 10.0.0.0/8)"
			if strings.Contains(c, "%") {
				why = "an address with a zone (%...) matches no peer: drop the zone"
			}
			p.addValue(fmt.Sprintf("gateway.auth.trusted_proxies[%d]", i), c, "%s", why)
		}
	}
	if !g.HasLogin() && !g.AllowAnonymous && !IsLoopback(g.Listen) {
		p.addValue("gateway.listen", g.Listen, "listens beyond loopback with no login: the page can restore VMs and fail over; "+
			"set users_file or auth.proxy_header, or allow_anonymous: true")
	}
}

// IsLoopback reports whether the host:port address listens on loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ParsePrefix reads an IP address (a /32 or /128) or a CIDR, as the gateway matches peers
// against it: an IPv4-mapped IPv6 one (::ffff:10.0.0.0/104) is read as the IPv4 one, and an
// address with a zone (fe80::1%eth0) is refused, as no peer would ever match it.
func ParsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var ip netip.Addr
		ip, err = netip.ParseAddr(s)
		if ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone, which no peer matches", s)
		}
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func validHostName(s string) bool {
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return false
		}
		host = h
	}
	if host == "" || len(host) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	for _, c := range host {
		if !(c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validHeaderName(s string) bool {
	for _, c := range s {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// DefaultChatResponseHosts is where Slack's response_url points.
func DefaultChatResponseHosts() []string { return []string{"hooks.slack.com"} }

// ChatResponseAllowed reports whether a response_url with this host (its
// URL's Host: host or host:port) is one of ChatResponseHosts: an entry
// without a port allows the host on any port, one with a port that port only.
func (g Gateway) ChatResponseAllowed(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, a := range g.ChatResponseHosts {
		if strings.EqualFold(a, host) || strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
