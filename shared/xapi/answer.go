package xapi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// answerReader reads the host's answer to an upload. Once the answer has
// begun (a first byte came) or the body has been sent (arm), each read
// gets the stall timeout (0: no bound): the deadline moves with every
// read, so only a host silent that long fails. The wait for the answer's
// first byte while the body streams is not bounded (XAPI answers before
// it reads the body, but a proxy may hold the answer back), nor is the
// time the body takes once the head has come (no read waits then).
type answerReader struct {
	conn, raw net.Conn
	timeout   time.Duration
	armed     atomic.Bool // the body has been sent
	// Only Read uses these, in one goroutine.
	begun   bool  // a byte of the answer came
	stalled error // a bounded read hit the deadline
}

// arm starts the bound. The deadline it sets also bounds a read already
// waiting in another goroutine (the answer read while the body was sent).
func (a *answerReader) arm() {
	if a.timeout > 0 {
		a.armed.Store(true)
		_ = a.raw.SetReadDeadline(time.Now().Add(a.timeout))
	}
}

// Read reads the answer. A stall is final: net/http reads again after a
// failed Peek (in the header lines), which would double the wait.
func (a *answerReader) Read(p []byte) (int, error) {
	if a.stalled != nil {
		return 0, a.stalled
	}
	if a.timeout > 0 && (a.begun || a.armed.Load()) {
		_ = a.raw.SetReadDeadline(time.Now().Add(a.timeout))
	}
	n, err := a.conn.Read(p)
	a.begun = a.begun || n > 0
	if errors.Is(err, os.ErrDeadlineExceeded) && (a.begun || a.armed.Load()) {
		a.stalled = err
	}
	return n, err
}

// readErr describes a failed read of the answer: one that hit the deadline
// Read set is a host silent for the stall timeout, after the body or in
// the middle of its answer.
func (a *answerReader) readErr(what string, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	when := "while answering"
	if a.armed.Load() {
		when = "after the body"
	}
	return fmt.Errorf("%s: the host said nothing for %v %s (%w)", what, a.timeout, when, ErrStalled)
}

// headErr is the error of a failed read of the answer head, given the
// body sender's outcome. A host silent in the middle of its head comes
// first: the body, if it was still going, failed only because that
// silence reset the connection.
func (a *answerReader) headErr(rerr, sendErr error) error {
	err := a.readErr("read response", rerr)
	if errors.Is(err, ErrStalled) {
		return err
	}
	return firstErr(sendErr, err)
}

// statusErr reads the start of a non-200 answer's page, its reads bounded
// as any read of the answer, and returns the answer as an error.
func (a *answerReader) statusErr(resp *http.Response) error {
	snippet, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	e := &httpStatusError{status: resp.Status, body: string(snippet), location: redactQuery(resp.Header.Get("Location"))}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		e.err = a.readErr("the rest of the page", err)
	}
	return e
}
