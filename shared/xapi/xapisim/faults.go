package xapisim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Faults are the knobs tests turn to make the pool misbehave; the zero value
// is a healthy pool. They apply to requests that start after SetFaults.
type Faults struct {
	RateLimit      int64         // bytes/s on /export, /import and /export_raw_vdi bodies; 0: unlimited
	DropAfter      int64         // cut an /export connection after this many body bytes; 0: never
	FirstByteDelay time.Duration // wait before the response headers of a transfer
	RefuseLogins   bool          // every login fails with SESSION_AUTHENTICATION_FAILED
	SRFull         bool          // SRs report no free space: snapshots and imports fail with SR_FULL
	ServerError    bool          // every request is answered HTTP 500 (a broken xapi daemon)
	// NBDReadFailAfter makes an NBD connection's reads fail (an I/O error reply) once it has
	// served this many bytes, as a host losing its storage mid-transfer; 0: never.
	NBDReadFailAfter int64
	// StallAfter makes an /export or /export_raw_vdi response stop after this many body
	// bytes, as a host whose storage hangs: the connection stays open, silent, until the
	// client closes it or the task is cancelled; 0: never.
	StallAfter int64
	// StallBeforeHeaders holds back the response head of /export and /export_raw_vdi
	// until the client goes away.
	StallBeforeHeaders bool
	// StallImport makes /import read none of the body: the client's writes block once the
	// socket buffers are full. The handler cannot see a client that gives up without
	// reading, so it ends when the task is cancelled (as the client does with a failed
	// import) or the simulator closes.
	StallImport bool
	// StallAfterImport makes /import read the whole body and then hang before it finishes
	// the import, as a host stuck after the body or a middlebox that holds the connection:
	// the task stays pending, nothing more is written and the connection stays open. It
	// lasts until the fault is cleared (the import then finishes as usual), the task is
	// cancelled (as the client does with a failed import) or the simulator closes.
	StallAfterImport ImportStall
	// StallImportHead makes /import send the first line of its 200 answer head and then
	// nothing more, as a host that hangs while it answers: the head is never finished,
	// nothing is imported (a body the client sends anyway is discarded) and the connection
	// stays open. It lasts until the client goes away (the task then fails), the task is
	// cancelled or the simulator closes.
	StallImportHead bool
	// StallImportError makes /import answer HTTP 500 as XAPI does when its SR check fails
	// (before the task is taken), with the Content-Length of the whole page but only its
	// first StalledPageBytes bytes; then nothing more comes and the connection stays open
	// until the client goes away or the simulator closes.
	StallImportError bool
	// StallImportRedirect makes /import's 302 to the pool member that sees the SR come as
	// a proxy might send it: keep-alive (no Connection: close) with a small HTML page of
	// which only the first StalledPageBytes bytes come; then nothing more comes and the
	// connection stays open until the client goes away or the simulator closes.
	StallImportRedirect bool
	// RefuseVHD makes /export_raw_vdi?format=vhd fail before any body as XAPI does for a
	// disk above the VHD maximum: HTTP 500 and the task's VDI_TOO_LARGE.
	RefuseVHD bool
	// DamageVHD makes /export_raw_vdi?format=vhd send a stream whose first footer has a
	// wrong cookie: an answer that started but is no VHD a reader accepts.
	DamageVHD bool
}

// StalledPageBytes is how much of its page /import sends under
// Faults.StallImportError and Faults.StallImportRedirect.
const StalledPageBytes = 16

// ImportStall says whether and how /import goes silent after the body (see
// Faults.StallAfterImport).
type ImportStall int

const (
	// NoImportStall: the import finishes and the connection closes.
	NoImportStall ImportStall = iota
	// ImportStallAfterHead sends the 200 head at once, as XAPI does; after the
	// body nothing more comes.
	ImportStallAfterHead
	// ImportStallNoHead holds the 200 head back too, as a proxy that buffers
	// the answer: a client that sent the body without waiting for the head
	// (none came in time) then waits for it. The head goes out once the
	// import has finished.
	ImportStallNoHead
)

// SetPassword changes the password logins need, as an operator changing
// the pool's root password does. Sessions already open stay valid, as on a
// real pool; ExpireSessions ends them.
func (s *Server) SetPassword(password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Password = password
}

// ExpireSessions ends every session, as a toolstack restart or XAPI's
// session expiry does: the next call of each client gets SESSION_INVALID.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// SetFaults replaces the fault knobs.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	close(s.faultsSet)
	s.faultsSet = make(chan struct{})
}

// faultsChanged returns a channel that the next SetFaults closes.
func (s *Server) faultsChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsSet
}

// CurrentFaults returns the fault knobs in force.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

var (
	// errDropped is the injected connection cut.
	errDropped = errors.New("connection dropped by fault injection")
	// errStalled ends a transfer that the stall faults held open.
	errStalled = errors.New("transfer stalled by fault injection")
)

// limiter returns a limiter for f.RateLimit, or nil when unlimited.
func limiter(f Faults) *rate.Limiter {
	if f.RateLimit <= 0 {
		return nil
	}
	burst := int(min(f.RateLimit, 256<<10))
	return rate.NewLimiter(rate.Limit(f.RateLimit), burst)
}

// waitN waits for n bytes' worth of tokens in burst-sized steps.
func waitN(ctx context.Context, lim *rate.Limiter, n int) error {
	for n > 0 {
		step := min(n, lim.Burst())
		if err := lim.WaitN(ctx, step); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// connWriter writes a transfer body to the raw connection, applying the rate
// limit and the drop-after and stall-after faults.
type connWriter struct {
	ctx     context.Context
	conn    net.Conn
	lim     *rate.Limiter
	drop    int64
	stall   int64
	written int64
	count   func(int64) // counts the bytes sent, if set
}

func (w *connWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	cut, stall := false, false
	if w.drop > 0 && w.written+int64(len(p)) >= w.drop {
		p, cut = p[:w.drop-w.written], true
	}
	if w.stall > 0 && w.written+int64(len(p)) >= w.stall {
		p, stall = p[:w.stall-w.written], true
	}
	if w.lim != nil {
		if err := waitN(w.ctx, w.lim, len(p)); err != nil {
			return 0, err
		}
	}
	n, err := w.conn.Write(p)
	w.written += int64(n)
	if w.count != nil {
		w.count(int64(n))
	}
	switch {
	case err == nil && cut:
		err = errDropped
	case err == nil && stall:
		err = holdOpen(w.ctx, w.conn)
	}
	return n, err
}

// holdOpen keeps a stalled transfer's connection open and silent until the
// client closes it or ctx ends (the task is cancelled, the simulator closes).
// It reads the connection only to see the client go: a download's client
// sends nothing more.
func holdOpen(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	_, _ = io.Copy(io.Discard, conn)
	return errStalled
}

// stallHead holds a download's response head back until the client gives
// up or the simulator closes, when StallBeforeHeaders is set. It reports
// whether it did; the request is then over.
func (s *Server) stallHead(r *http.Request) bool {
	if !s.CurrentFaults().StallBeforeHeaders {
		return false
	}
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
	return true
}

// limitedReader applies the rate limit and the stall fault to a request body.
type limitedReader struct {
	ctx   context.Context
	r     io.Reader
	lim   *rate.Limiter
	stall bool        // read nothing until ctx ends
	count func(int64) // counts the bytes received, if set
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.stall {
		<-l.ctx.Done()
	}
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if l.lim != nil && len(p) > l.lim.Burst() {
		p = p[:l.lim.Burst()]
	}
	n, err := l.r.Read(p)
	if l.count != nil {
		l.count(int64(n))
	}
	if l.lim != nil && n > 0 {
		if werr := l.lim.WaitN(l.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// abort resets conn so the peer sees the transfer fail, not a clean end.
func abort(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// errNBDFault is the injected NBD read failure.
var errNBDFault = errors.New("NBD read failed by fault injection")

// failingAfter is an export's data that serves limit bytes, then fails every read.
type failingAfter struct {
	src   io.ReaderAt
	limit int64
	mu    sync.Mutex
	n     int64
}

func (f *failingAfter) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	over := f.n+int64(len(p)) > f.limit
	if !over {
		f.n += int64(len(p))
	}
	f.mu.Unlock()
	if over {
		return 0, errNBDFault
	}
	return f.src.ReadAt(p, off)
}
