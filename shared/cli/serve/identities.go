package serve

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nkeys"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
)

// A serve process with the embedded server gives every function its own
// identity (events.Roles); an `admin` identity creates the streams at
// start-up and is then closed. With an external backbone the configured
// login is used by every function of the process, unless it has none and
// the data dir holds the identities of an embedded server.

// identityNames are the identities the embedded server knows.
func identityNames() []string {
	var out []string
	for _, r := range events.Roles() {
		out = append(out, r.Name)
	}
	return out
}

// serverUsers are the embedded server's users: every identity with its
// grant, and the configured login (user/password or NKey) as a client.
func serverUsers(cfg *config.Config, ids map[string]bus.Identity) ([]natsserver.User, []natsserver.NKeyUser, error) {
	s, err := events.NewSubjects(cfg.NATS.Prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("nats.prefix: %w", err)
	}
	var users []natsserver.User
	for _, r := range events.Roles() {
		role, _ := events.RoleOf(r.Name)
		users = append(users, natsserver.User{Name: ids[r.Name].User, Password: ids[r.Name].Password,
			Grant: role.Grant(s, events.StreamNames{})})
	}
	client, _ := events.RoleOf(events.IdentityClient)
	grant := client.Grant(s, events.StreamNames{})
	n := cfg.NATS
	if n.User != "" {
		users = append(users, natsserver.User{Name: n.User, Password: n.Password.Reveal(), Grant: grant})
	}
	var nkeyUsers []natsserver.NKeyUser
	if n.NKeyFile != "" {
		pub, err := nkeyPublic(n.NKeyFile)
		if err != nil {
			return nil, nil, err
		}
		nkeyUsers = append(nkeyUsers, natsserver.NKeyUser{PublicKey: pub, Grant: grant})
	}
	return users, nkeyUsers, nil
}

func nkeyPublic(seedFile string) (string, error) {
	raw, err := os.ReadFile(seedFile)
	if err != nil {
		return "", fmt.Errorf("nats.nkey_file: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(raw)
	if err != nil {
		return "", fmt.Errorf("nats.nkey_file %s: not an NKey seed", seedFile)
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

// conns hands out one connection per identity.
type conns struct {
	url    string
	ids    map[string]bus.Identity // nil: every function shares shared
	shared *bus.Conn
	open   []*bus.Conn
	log    *slog.Logger
	// subjects is the configured prefix, which each connection's watches check
	// events' types against (bus.ConnectOptions.Subjects).
	subjects *events.Subjects
}

// forIdentity connects as identity name (or returns the shared connection).
func (c *conns) forIdentity(name string) (*bus.Conn, error) {
	if c.ids == nil {
		return c.shared, nil
	}
	id, ok := c.ids[name]
	if !ok {
		return nil, fmt.Errorf("function %s has no NATS identity (events.Roles)", name)
	}
	o := id.Options()
	o.CheckSources, o.Subjects = true, c.subjects
	conn, err := bus.Connect(c.url, o, c.log.With(bus.KeyIdentity, name))
	if err != nil {
		return nil, err
	}
	c.open = append(c.open, conn)
	return conn, nil
}

// ensureStreams creates the streams as admin (or on the shared connection).
func (c *conns) ensureStreams(ctx context.Context, t bus.Topology) error {
	conn, err := c.forIdentity(events.IdentityAdmin)
	if err != nil {
		return err
	}
	if err := conn.EnsureStreams(ctx, t); err != nil {
		return err
	}
	if c.ids != nil {
		c.open = c.open[:len(c.open)-1]
		return conn.Close()
	}
	return nil
}

func (c *conns) closeAll(log *slog.Logger) {
	for _, conn := range append(c.open, c.shared) {
		if conn == nil {
			continue
		}
		if err := conn.Close(); err != nil {
			log.Warn("closing a NATS connection", "err", err)
		}
	}
}
