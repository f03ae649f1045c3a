package xapi

import (
	"errors"
	"net"
	"net/url"
	"slices"
)

// When the master dies, HA makes another host master, and a client that
// only knows the dead one cannot reach the pool: XAPI tells a client where
// the master went only through HOST_IS_SLAVE, which a dead host cannot
// send. So the client knows the pool's hosts beforehand (read at login, as
// it reads them for redirects, with their published certificates; and the
// hosts pinned with WithHostFingerprint), and when the master cannot be
// reached it sends the call to them in turn. A member answers HOST_IS_SLAVE
// [new master], which rpc follows. Only a call that never left (the
// connection to the master could not be made) is sent again, so no call
// runs twice; a call cut on an open connection fails, and the next one,
// on a new connection, fails over.

// unreachable reports whether err is a failure to connect to the host: the
// request was never sent.
func unreachable(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// failover walks the pool's other hosts for one call.
type failover struct {
	from  *url.URL // the master that could not be reached
	err   error    // its error, returned when no host answers
	hosts []string // the hosts still to try
	tried *url.URL // the host this call moved the client to last
}

// next moves the client to the next host to try after err; false when
// none is left.
func (f *failover) next(c *Client, err error) bool {
	if f.from == nil {
		f.from, f.err = c.baseURL(), err
		f.hosts = c.otherHosts(f.from)
	}
	for len(f.hosts) > 0 {
		addr := f.hosts[0]
		f.hosts = f.hosts[1:]
		host, herr := masterHost(addr, f.from.Port())
		if herr != nil {
			continue
		}
		next := *f.from
		next.Host = host
		c.opts.logger.Warn("xapi: the pool master cannot be reached; trying another host of the pool",
			"master", f.from.Host, "host", host)
		f.tried = &next
		c.base.Store(f.tried)
		return true
	}
	return false
}

// giveUp puts the client back on the master it started from when no host
// of the pool answered as XAPI (unless another call, or a HOST_IS_SLAVE,
// has moved it since), and returns that master's error, with the last
// host's when that one was reached but could not be talked to (its
// certificate cannot be verified, say): a client left on such a host would
// fail there even once the master is back.
func (f *failover) giveUp(c *Client, err error) error {
	if f.from == nil {
		return err
	}
	if f.tried != nil {
		c.base.CompareAndSwap(f.tried, f.from)
	}
	if unreachable(err) {
		return f.err
	}
	return errors.Join(f.err, err)
}

// otherHosts lists the pool hosts to try when the master at from cannot be
// reached: the configured host, then the known pool hosts, each once.
func (c *Client) otherHosts(from *url.URL) []string {
	seen := map[string]bool{memberKey(from.Host): true, memberKey(from.Hostname()): true}
	var out []string
	add := func(addr string) {
		if k := memberKey(addr); !seen[k] {
			seen[k] = true
			out = append(out, addr)
		}
	}
	add(c.origin.Host)
	c.poolMu.Lock()
	members := make([]string, 0, len(c.members))
	for addr := range c.members {
		members = append(members, addr)
	}
	c.poolMu.Unlock()
	slices.Sort(members)
	for _, addr := range members {
		add(addr)
	}
	return out
}
