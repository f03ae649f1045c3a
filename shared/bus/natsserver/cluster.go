package natsserver

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ClusterConfig configures an in-process NATS JetStream cluster: what the
// scale-out tests run xbr's processes against, as a three-node cluster in
// production would be. Zero values mean the defaults in brackets.
type ClusterConfig struct {
	Name     string // cluster name; servers are <Name>-1, <Name>-2, ... [xbr]
	Size     int    // servers [3]
	StoreDir string // server i stores under StoreDir/<server name>; required
	Host     string // where clients and routes listen [127.0.0.1]
	// ReadyTimeout bounds the wait for JetStream to elect its meta leader [30s].
	ReadyTimeout time.Duration
}

// Cluster is a running in-process cluster. Servers are numbered from 0.
type Cluster struct {
	mu      sync.Mutex
	servers []*server.Server
	urls    []string
	stopped []bool
}

// StartCluster starts cfg.Size clustered servers with JetStream, each with
// routes to every other one, and waits until JetStream has a meta leader
// that every server follows.
//
// The route ports are reserved and released before the nodes bind them, so
// on a busy machine another process can take one in between and that node
// never gets ready: the start is then tried again on new ports (three tries
// at most), each in a store folder of its own.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var errs []error
	for try := range startTries {
		tcfg := cfg
		if try > 0 {
			tcfg.StoreDir = filepath.Join(cfg.StoreDir, fmt.Sprintf("try-%d", try+1))
		}
		c, err := startCluster(tcfg)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// startTries is how many times StartCluster tries to start the cluster.
const startTries = 3

func startCluster(cfg ClusterConfig) (*Cluster, error) {
	ports, err := freePorts(cfg.Host, cfg.Size)
	if err != nil {
		return nil, err
	}
	routes := make([]string, len(ports))
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats://%s:%d", cfg.Host, p)
	}
	c := &Cluster{}
	for i := range cfg.Size {
		ns, err := startNode(cfg, i, ports[i], routes)
		if err != nil {
			c.Shutdown()
			return nil, err
		}
		c.servers = append(c.servers, ns)
		c.urls = append(c.urls, ns.ClientURL())
		c.stopped = append(c.stopped, false)
	}
	if err := c.waitJetStream(cfg.ReadyTimeout); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func (cfg ClusterConfig) withDefaults() (ClusterConfig, error) {
	if cfg.StoreDir == "" {
		return cfg, errors.New("nats cluster: store dir is required")
	}
	cfg.Name = orDefault(cfg.Name, "xbr")
	cfg.Host = orDefault(cfg.Host, "127.0.0.1")
	if !loopback(cfg.Host) { // the cluster has no users: tests only
		return cfg, fmt.Errorf("nats cluster on %s: an open cluster stays on loopback", cfg.Host)
	}
	if cfg.Size <= 0 {
		cfg.Size = 3
	}
	cfg.ReadyTimeout = durationOr(cfg.ReadyTimeout, 30*time.Second)
	return cfg, nil
}

func startNode(cfg ClusterConfig, i, clusterPort int, routes []string) (*server.Server, error) {
	name := fmt.Sprintf("%s-%d", cfg.Name, i+1)
	opts := &server.Options{
		ServerName: name,
		Host:       cfg.Host,
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   filepath.Join(cfg.StoreDir, name),
		NoSigs:     true,
		Cluster:    server.ClusterOpts{Name: cfg.Name, Host: cfg.Host, Port: clusterPort},
		Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats cluster node %s: %w", name, err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(nodeReady) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats cluster node %s: not ready after %s", name, nodeReady)
	}
	return ns, nil
}

// nodeReady bounds the wait for one node to accept connections.
const nodeReady = 20 * time.Second

// freePorts reserves n distinct free TCP ports on host and releases them, so
// that every node's routes can name every other node before any starts.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("nats cluster: pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) waitJetStream(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.jetStreamReady() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nats cluster: no JetStream meta leader followed by every server after %s", timeout)
}

func (c *Cluster) jetStreamReady() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	leader := false
	for i, ns := range c.servers {
		if c.stopped[i] {
			continue
		}
		if !ns.JetStreamIsCurrent() {
			return false
		}
		leader = leader || ns.JetStreamIsLeader()
	}
	return leader
}

// URL is every server's client URL, comma-separated, as Connect and
// `xbr serve --nats` take it.
func (c *Cluster) URL() string { return strings.Join(c.urls, ",") }

// ClientURL is server i's client URL.
func (c *Cluster) ClientURL(i int) string { return c.urls[i] }

// ServerName is server i's name (<Name>-<i+1>), as stream and consumer
// infos report their leader and replicas.
func (c *Cluster) ServerName(i int) string { return c.servers[i].Name() }

// Size is the number of servers, running or stopped.
func (c *Cluster) Size() int { return len(c.servers) }

// MetaLeader is the index of the server leading JetStream's meta group, or
// -1 while there is none.
func (c *Cluster) MetaLeader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, ns := range c.servers {
		if !c.stopped[i] && ns.JetStreamIsLeader() {
			return i
		}
	}
	return -1
}

// Stop shuts server i down (its clients are disconnected and reconnect to
// another server) and waits until it has stopped.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	if c.stopped[i] {
		c.mu.Unlock()
		return
	}
	c.stopped[i] = true
	ns := c.servers[i]
	c.mu.Unlock()
	ns.Shutdown()
	ns.WaitForShutdown()
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
