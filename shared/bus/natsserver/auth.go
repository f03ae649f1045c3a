package natsserver

import (
	"fmt"
	"net"

	"github.com/nats-io/nats-server/v2/server"

	"xbr/events"
)

// User is a user/password login of the embedded server with its grant.
// Password is a secret: never logged.
type User struct {
	Name     string
	Password string
	Grant    events.Grant
}

// NKeyUser is an NKey login (its public key) with its grant.
type NKeyUser struct {
	PublicKey string
	Grant     events.Grant
}

// authorize turns the users of cfg into the server's users. A server with
// no users takes anyone, so it may only listen on loopback.
func authorize(opts *server.Options, cfg ServerConfig) error {
	if len(cfg.Users)+len(cfg.NKeyUsers) == 0 {
		if !loopback(opts.Host) {
			return fmt.Errorf("embedded nats on %s: refusing to listen beyond loopback with no users", opts.Host)
		}
		return nil
	}
	for _, u := range cfg.Users {
		if u.Name == "" || u.Password == "" {
			return fmt.Errorf("embedded nats: user %q: a user needs a name and a password", u.Name)
		}
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.Password,
			Permissions: permissions(u.Grant)})
	}
	for _, u := range cfg.NKeyUsers {
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: u.PublicKey, Permissions: permissions(u.Grant)})
	}
	opts.NoAuthUser = ""
	return nil
}

// permissions is g as the server's permissions. Everything not allowed is
// denied.
func permissions(g events.Grant) *server.Permissions {
	p := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: nonEmpty(g.Publish), Deny: g.PublishDeny},
		Subscribe: &server.SubjectPermission{Allow: nonEmpty(g.Subscribe)},
	}
	if g.AllowResponses {
		p.Response = &server.ResponsePermission{MaxMsgs: server.DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
			Expires: server.DEFAULT_ALLOW_RESPONSE_EXPIRATION}
	}
	return p
}

// nonEmpty keeps an empty allow list from meaning "everything".
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return []string{"_xbr_nothing_allowed"}
	}
	return s
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
