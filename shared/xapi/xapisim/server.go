package xapisim

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"xbr/shared/nbd/nbdserver"
)

// Options configures a simulated pool; the zero value is a small valid pool.
type Options struct {
	VMs         int    // ordinary VMs (besides dom0 and a template); default 2. Even-numbered ones run.
	Hosts       int    // pool members, each with a local SR; VMs are placed across them; default 1
	XapiVersion string // the xapi version claimed (host software_version "xapi"); default 24.19 (XCP-ng 8.3)
	DiskSize    int64  // bytes per VM disk; default 16 MiB
	DisksPerVM  int    // disks per VM; default 1
	User        string // login user; default "root"
	Password    string // login password; default "xapisim"
	DataDir     string // where imported disks are kept (sparse files); default a temp dir removed by Close
	Seed        uint64 // seed of the generated disk content; default 1
	SameContent bool   // every VM's disk d holds the same generated content, as clones of one template
	SRSize      int64  // physical_size of the default SR; default 1 TiB or 4x the disks, whichever is larger
	PoolName    string // pool name_label; default "xapisim"
	Faults      Faults // initial fault knobs
	NBD         string // purpose of the pool's network: "" (none), "nbd" (TLS) or "insecure_nbd"
	// RawDisks makes the VMs' disks raw images (sm_config type=raw, as SM's
	// FileSR makes a raw VDI, of exactly DiskSize bytes): their format=vhd
	// export is built as XAPI's vhd-tool builds that of a raw source, the
	// footer's size rounded up to 2 MiB (see vhd.Image.FromRaw).
	RawDisks bool
	// BootDelay is how long a started VM's guest takes to report (guest
	// metrics, a health check script's verdict); default 1s.
	BootDelay time.Duration
	// SlowBootDelay is that time for a guest that boots slowly
	// (HealthSlowBoot); default 1h.
	SlowBootDelay time.Duration
	// Health is the behaviour of every started guest without a more
	// specific one (SetGuestHealth); default HealthBoots.
	Health string
	Now    func() time.Time
	Logger *slog.Logger // default: discard
}

func (o *Options) defaults() {
	if o.VMs == 0 {
		o.VMs = 2
	}
	if o.Hosts == 0 {
		o.Hosts = 1
	}
	if o.XapiVersion == "" {
		o.XapiVersion = xapiVersion
	}
	if o.DiskSize == 0 {
		o.DiskSize = 16 << 20
	}
	if o.DisksPerVM == 0 {
		o.DisksPerVM = 1
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Password == "" {
		o.Password = "xapisim"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.SRSize == 0 {
		o.SRSize = max(1<<40, 4*int64(o.VMs*o.DisksPerVM)*o.DiskSize)
	}
	if o.PoolName == "" {
		o.PoolName = "xapisim"
	}
	if o.BootDelay == 0 {
		o.BootDelay = time.Second
	}
	if o.SlowBootDelay == 0 {
		o.SlowBootDelay = time.Hour
	}
	if o.Health == "" {
		o.Health = HealthBoots
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server is one simulated pool (one host, one SR, one network).
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	st      *store
	methods map[string]*method
	disks   *diskStore
	pat     *patterns
	tmpDir  string

	cbt map[string]*cbtLog // VDI ref -> its CBT log; guarded by st.mu

	pool, host, sr string    // refs of the pool, of the first host (the initial master) and of its local SR
	hosts          []simHost // the pool members, in order

	mu       sync.Mutex // guards the fields below
	sessions map[string]*session
	workers  map[string]context.CancelFunc // running task ref -> cancel
	faults   Faults
	requests map[string]int
	calls    map[string]int   // API calls per method; see Stats
	bytes    map[string]int64 // bytes per transfer kind; see Stats
	restores []DBRestore      // accepted database uploads; see DBRestores
	guests   guests

	done      chan struct{}
	faultsSet chan struct{} // closed and replaced by SetFaults; guarded by mu
	closeOne  sync.Once
	httpSrv   *http.Server
	listeners []*http.Server    // StartHosts's, one per host; guarded by mu
	nbd       *nbdserver.Server // the NBD server; guarded by mu
	nbdLn     net.Listener
}

// New builds a pool populated as opts says.
func New(opts Options) (*Server, error) {
	opts.defaults()
	if opts.NBD != "" && opts.NBD != purposeNBD && opts.NBD != purposeInsecureNBD {
		return nil, fmt.Errorf("xapisim: NBD %q: want \"\", %q or %q", opts.NBD, purposeNBD, purposeInsecureNBD)
	}
	if !slices.Contains(healthModes, opts.Health) {
		return nil, fmt.Errorf("xapisim: Health %q: want one of %s", opts.Health, strings.Join(healthModes, ", "))
	}
	if opts.VMs < 0 || opts.DisksPerVM < 0 || opts.DiskSize < 0 || opts.Hosts < 0 {
		return nil, fmt.Errorf("xapisim: VMs %d, DisksPerVM %d, DiskSize %d and Hosts %d must not be negative",
			opts.VMs, opts.DisksPerVM, opts.DiskSize, opts.Hosts)
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, st: newStore(), cbt: map[string]*cbtLog{},
		sessions: map[string]*session{}, workers: map[string]context.CancelFunc{},
		faults: opts.Faults, faultsSet: make(chan struct{}), requests: map[string]int{}, calls: map[string]int{}, bytes: map[string]int64{}, done: make(chan struct{}),
		guests: guests{byUUID: map[string]string{}, byName: map[string]string{}, boots: map[string]uint64{}}}
	for _, k := range TransferKinds {
		s.bytes[k] = 0
	}
	dir := opts.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "xapisim-")
		if err != nil {
			return nil, fmt.Errorf("xapisim: data dir: %w", err)
		}
		dir, s.tmpDir = tmp, tmp
	}
	disks, err := newDiskStore(dir)
	if err != nil {
		return nil, err
	}
	s.disks = disks
	s.pat = newPatterns(opts.Seed)
	s.methods = s.buildMethods()
	if err := s.populate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler serves every XAPI endpoint, routed by longest path prefix as XAPI does.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	broken := s.faults.ServerError
	s.mu.Unlock()
	if broken {
		httpError(w, http.StatusInternalServerError, "Internal Server Error", "")
		return
	}
	if r.Method == http.MethodOptions {
		corsHeaders(w.Header())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	route := func(prefixes ...string) string {
		for _, p := range prefixes { // longest first
			if strings.HasPrefix(r.URL.Path, p) {
				return p
			}
		}
		return ""
	}
	switch r.Method {
	case http.MethodPost:
		if s.serveSimPost(w, r) {
			return
		}
		if route("/jsonrpc") != "" {
			s.serveJSONRPC(w, r)
			return
		}
		s.serveXMLRPC(w, r)
		return
	case http.MethodGet, http.MethodHead:
		if r.URL.Path == "/sim/stats" {
			s.serveStats(w)
			return
		}
		if r.URL.Path == "/pool/xmldbdump" {
			s.serveDBDump(w, r)
			return
		}
		switch route("/export_raw_vdi", "/export") {
		case "/export_raw_vdi":
			s.serveExportRawVDI(w, r)
			return
		case "/export":
			s.serveExport(w, r)
			return
		}
	case http.MethodPut:
		if r.URL.Path == "/pool/xmldbdump" {
			s.serveDBRestore(w, r)
			return
		}
		switch route("/import_raw_vdi", "/import") {
		case "/import":
			s.serveImport(w, r)
			return
		}
	}
	httpError(w, http.StatusNotFound, "Not Found", "")
}

// serveSimPost answers the simulator's own POST endpoints (/sim/...); it
// reports whether the path was one.
func (s *Server) serveSimPost(w http.ResponseWriter, r *http.Request) bool {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/sim/vdi/"):
		s.serveGuestWrite(w, r)
	case strings.HasPrefix(p, "/sim/vm/"):
		s.serveSimVM(w, r)
	case strings.HasPrefix(p, "/sim/fault"):
		s.serveSimFault(w, r)
	default:
		return false
	}
	return true
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background;
// it returns the base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("xapisim: listen %s: %w", addr, err)
	}
	if err := s.startNBD(); err != nil {
		return "", errors.Join(err, ln.Close())
	}
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("xapisim: serve", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the listener started by Start, wakes blocked event.from calls,
// cancels running transfers and removes the temporary data directory.
func (s *Server) Close() error {
	var err error
	s.closeOne.Do(func() {
		close(s.done)
		s.mu.Lock()
		for _, cancel := range s.workers {
			cancel()
		}
		srvs := slices.Clone(s.listeners)
		nbd := s.nbd
		s.mu.Unlock()
		if nbd != nil {
			err = nbd.Close()
		}
		if s.httpSrv != nil {
			err = errors.Join(err, s.httpSrv.Close())
		}
		for _, srv := range srvs {
			err = errors.Join(err, srv.Close())
		}
		if s.tmpDir != "" {
			err = errors.Join(err, os.RemoveAll(s.tmpDir))
		}
	})
	return err
}

// Requests returns how many HTTP requests each path received.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

func corsHeaders(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "X-Requested-With")
}

// httpError answers as XAPI's HTTP server does: a small HTML body.
func httpError(w http.ResponseWriter, code int, title, extra string) {
	if extra != "" {
		w.Header().Set("WWW-Authenticate", extra)
	}
	body := fmt.Sprintf("<html><body><h1>HTTP %d %s</h1></body></html>", code, title)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("Connection", "close")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// internalError answers as XAPI's HTTP server does when a handler raises
// before writing a reply (xen-api ocaml/libs/http-lib/http_svr.ml
// response_internal_error): 500 with the exception in the HTML body.
func internalError(w http.ResponseWriter, err error) {
	body := internalErrorPage(err)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, body)
}

// internalErrorPage is the HTML body of internalError's answer.
func internalErrorPage(err error) string {
	f := asFailure(err)
	return "<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; " +
		"please wait a while and try again. If the problem persists, please contact your support " +
		"representative.<h1> Additional information </h1>Server_error(" + html.EscapeString(f.Code) +
		", [ " + html.EscapeString(strings.Join(f.Params, "; ")) + " ])</body></html>"
}
