package xapisim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// simHost is one pool member: its host row, its local SR and the
// certificate its listener presents.
type simHost struct {
	ref, sr string
	cert    hostCert
}

// pbdRecord attaches sr to host.
func pbdRecord(host, sr string) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "host": host, "SR": sr, "device_config": smap{"device": "/dev/sda3"},
		"currently_attached": true, "other_config": smap{},
	}
}

// hostKey carries, in a request's context, the index of the host that
// received it.
type hostKey struct{}

// hostHandler serves as host i of the pool.
func (s *Server) hostHandler(i int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		s.serveHTTP(w, r.WithContext(context.WithValue(r.Context(), hostKey{}, i)))
	}
}

// thisHost is the ref of the host a request reached (host 1 by default).
func (s *Server) thisHost(ctx context.Context) string {
	i, _ := ctx.Value(hostKey{}).(int)
	return s.hosts[i].ref
}

// master returns the pool master's ref and address; the caller holds st.mu.
func (s *Server) master() (ref, address string) {
	pool, _ := s.st.get("pool", s.pool)
	ref = pool.str("master")
	if h, err := s.st.get("host", ref); err == nil {
		address = h.str("address")
	}
	return ref, address
}

// slaveError is what a pool member answers to a login or a call with a user
// session: HOST_IS_SLAVE [master address] (xen-api ocaml/xapi/xapi_session.ml
// login, ocaml/xapi/session_check.ml Non_master_login_on_slave). It is nil
// on the master.
func (s *Server) slaveError(ctx context.Context) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	ref, addr := s.master()
	if ref == s.thisHost(ctx) {
		return nil
	}
	return fail("HOST_IS_SLAVE", addr)
}

// seesSR reports whether host has sr attached (a currently attached PBD), as
// xen-api ocaml/xapi/xapi_vm_helpers.ml which_specified_SRs_not_available_on_host
// decides; the caller holds st.mu.
func (s *Server) seesSR(host, sr string) bool {
	h, err := s.st.get("host", host)
	if err != nil {
		return false
	}
	for _, ref := range h.refs("PBDs") {
		if pbd, err := s.st.get("PBD", ref); err == nil && pbd.str("SR") == sr && pbd.flag("currently_attached") {
			return true
		}
	}
	return false
}

// hostFor chooses where a transfer over srs runs: "" when here sees them
// all, else the first host (the master first) that does, or
// NO_HOSTS_AVAILABLE (xen-api ocaml/xapi/importexport.ml
// check_sr_availability and find_host_for_sr, xapi_vm_helpers.ml
// choose_host; XAPI picks at random among several, the simulator the first).
// The caller holds st.mu.
func (s *Server) hostFor(here string, srs []string) (string, error) {
	sees := func(h string) bool {
		for _, sr := range srs {
			if !s.seesSR(h, sr) {
				return false
			}
		}
		return true
	}
	if sees(here) {
		return "", nil
	}
	master, _ := s.master()
	order := []string{master}
	for _, h := range s.hosts {
		order = append(order, h.ref)
	}
	for _, h := range order {
		if h != here && sees(h) {
			return h, nil
		}
	}
	return "", fail("NO_HOSTS_AVAILABLE")
}

// vmSRs lists the SRs of a VM's disks; the caller holds st.mu.
func (s *Server) vmSRs(vm *object) []string {
	var out []string
	for _, ref := range vm.refs("VBDs") {
		vbd, err := s.st.get("VBD", ref)
		if err != nil || vbd.flag("empty") {
			continue
		}
		if vdi, err := s.st.get("VDI", vbd.str("VDI")); err == nil {
			out = append(out, vdi.str("SR"))
		}
	}
	return out
}

// residentHost is where a VM runs: a host that sees its disks, the master
// when it does; the caller holds st.mu.
func (s *Server) residentHost(vm *object) string {
	master, _ := s.master()
	if h, err := s.hostFor(master, s.vmSRs(vm)); err == nil && h != "" {
		return h
	}
	return master
}

// redirect answers 302 to the same path and query on host, with the head
// XAPI writes (xen-api ocaml/libs/http-lib/http.ml http_302_redirect: no
// body, Connection: close). XAPI's Location is always https://<address>;
// a simulator served over plain HTTP keeps http.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, host string) {
	loc := s.redirectLocation(r, host)
	x, err := s.hijack(w, "HTTP/1.1 302 Found\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\nLocation: "+loc+"\r\n\r\n")
	if err == nil {
		_ = x.conn.Close()
	}
}

// redirectLocation is the Location of redirect: r's path and query on host.
func (s *Server) redirectLocation(r *http.Request, host string) string {
	s.st.mu.Lock()
	h, err := s.st.get("host", host)
	addr := ""
	if err == nil {
		addr = h.str("address")
	}
	s.st.mu.Unlock()
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	loc := scheme + "://" + addr + r.URL.Path
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	s.log.Debug("xapisim: redirect", "path", r.URL.Path, "to", addr)
	return loc
}

// designateMaster makes host the pool master (pool.designate_new_master);
// the old master then answers HOST_IS_SLAVE.
func (s *Server) designateMaster(c *call) (any, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	h, err := c.obj(0, "host")
	if err != nil {
		return nil, err
	}
	pool, _ := s.st.get("pool", s.pool)
	s.st.set(pool, "master", h.ref)
	return "", nil
}

// SetMaster makes host i (0-based) the pool master, as
// pool.designate_new_master does.
func (s *Server) SetMaster(i int) error {
	if i < 0 || i >= len(s.hosts) {
		return fmt.Errorf("xapisim: host %d: the pool has %d hosts", i, len(s.hosts))
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	pool, _ := s.st.get("pool", s.pool)
	s.st.set(pool, "master", s.hosts[i].ref)
	return nil
}

// Hosts returns the refs of the pool's hosts in order (host 1 first) and
// LocalSR the ref of host i's local SR.
func (s *Server) Hosts() []string {
	out := make([]string, len(s.hosts))
	for i, h := range s.hosts {
		out[i] = h.ref
	}
	return out
}

// LocalSR returns the ref of host i's local SR.
func (s *Server) LocalSR(i int) string { return s.hosts[i].sr }

// versionAtLeast compares a dotted xapi version ("24.19", "1.249.26") with
// major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var got [2]int
	for i, p := range strings.SplitN(v, ".", 3) {
		if i < 2 {
			got[i], _ = strconv.Atoi(p)
		}
	}
	return got[0] > major || got[0] == major && got[1] >= minor
}

// transferHost tells where a transfer over the SRs that srs finds runs: ""
// here, or the host to redirect to. srs runs under st.mu and reports false
// when the object is unknown (the handler then fails as it would anyway).
func (s *Server) transferHost(r *http.Request, srs func() ([]string, bool)) (string, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	list, ok := srs()
	if !ok {
		return "", nil
	}
	return s.hostFor(s.thisHost(r.Context()), list)
}

// closeSilently ends a request with no response at all, as XAPI's export
// handler does after failing the task when no host sees the VM's storage.
func (s *Server) closeSilently(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}
