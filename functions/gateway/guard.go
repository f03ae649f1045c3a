package gateway

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"xbr/shared/config"
)

// The web page's doors, in front of every page route (not of the signed
// /v1 API, nor of the probes, which come with the pod's address as Host):
//
//  1. Host: only the configured public names, the listen address and the
//     loopback names (localhost, 127.0.0.1, [::1]) are answered; any other
//     gets 421. A DNS-rebinding page (evil.example resolving to the
//     gateway) sends its own name and is refused.
//  2. Login: HTTP basic against gateway.users_file, or the user named by
//     gateway.auth.proxy_header when the peer is a trusted proxy. With
//     neither configured the page is anonymous (config check allows that
//     on loopback only, or with allow_anonymous).

// openPath reports whether path is outside the page: the signed API and
// the probes.
func openPath(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/v1/")
}

type userKey struct{}

// userOf is the user the page's request was authenticated as ("" when the
// page has no login).
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

// guard applies the Host check and the login to the page's routes.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.hosts.allowed(r.Host) {
			reqLog(r).Warn("request refused", "status", http.StatusMisdirectedRequest, "err", "Host is not a name of this gateway")
			http.Error(w, "421 this gateway does not answer to that name (gateway.public_names)", http.StatusMisdirectedRequest)
			return
		}
		user, ok := s.login.authenticate(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// hostNames are the Host values the page answers to.
type hostNames struct {
	names  map[string]bool // lower-case host or host:port
	anyIP  bool            // the gateway listens on every address
	listen string          // the listen host, when it is one address
}

func newHostNames(g config.Gateway, listen string) hostNames {
	h := hostNames{names: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	for _, n := range g.PublicNames {
		h.names[strings.ToLower(n)] = true
	}
	if host, _, err := net.SplitHostPort(listen); err == nil {
		ip, perr := netip.ParseAddr(host)
		switch {
		case host == "" || perr == nil && ip.IsUnspecified():
			h.anyIP = true
		default:
			h.names[strings.ToLower(host)] = true
		}
	}
	return h
}

// allowed reports whether the Host header host names this gateway. An IP
// address is accepted when the gateway listens on every address: a Host
// that is an address cannot come from DNS rebinding.
func (h hostNames) allowed(host string) bool {
	host = strings.ToLower(host)
	if h.names[host] {
		return true
	}
	name := host
	if n, _, err := net.SplitHostPort(host); err == nil {
		name = n
	} else if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		name = host[1 : len(host)-1] // an IPv6 literal on the default port
	}
	if h.names[name] {
		return true
	}
	_, err := netip.ParseAddr(name)
	return h.anyIP && err == nil
}
