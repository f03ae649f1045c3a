package xapisim

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"time"
)

// authorized checks a transfer request: session_id (cookie, then query) or
// HTTP Basic credentials.
func (s *Server) authorized(r *http.Request) bool {
	id := ""
	if c, err := r.Cookie("session_id"); err == nil {
		id = c.Value
	}
	if id == "" {
		id = r.URL.Query().Get("session_id")
	}
	if id != "" {
		_, err := s.checkSession(id)
		return err == nil
	}
	if user, pass, ok := r.BasicAuth(); ok {
		sess, err := s.newSession(user, pass, "http-basic")
		if err != nil {
			return false
		}
		s.mu.Lock()
		delete(s.sessions, sess.ref) // XAPI logs in and out internally
		s.mu.Unlock()
		return true
	}
	return false
}

func unauthorized(w http.ResponseWriter, action string) {
	httpError(w, http.StatusUnauthorized, "Unauthorised", fmt.Sprintf(`Basic realm="%s"`, action))
}

// transferTask returns the task named by task_id (query or cookie), or a
// new one labelled label.
func (s *Server) transferTask(r *http.Request, label string) (string, error) {
	id := r.URL.Query().Get("task_id")
	if id == "" {
		if c, err := r.Cookie("task_id"); err == nil {
			id = c.Value
		}
	}
	if id == "" {
		return s.newTask(label, ""), nil
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if _, err := s.st.get("task", id); err != nil {
		return "", err
	}
	return id, nil
}

// xfer is a hijacked connection with the faults of this request.
type xfer struct {
	conn   net.Conn
	rw     *bufio.ReadWriter
	faults Faults
}

// hijack takes over the connection so the response head can be written
// exactly as XAPI writes it (HTTP/1.0 for /export, "task-id:" without a space).
func (s *Server) hijack(w http.ResponseWriter, head string) (*xfer, error) {
	f := s.CurrentFaults()
	if f.FirstByteDelay > 0 {
		select {
		case <-time.After(f.FirstByteDelay):
		case <-s.done:
		}
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("xapisim: hijack: %w", err)
	}
	if _, err := rw.WriteString(head); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := rw.Flush(); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &xfer{conn: conn, rw: rw, faults: f}, nil
}

// failBeforeHeaders fails the task and answers HTTP 500, as XAPI does when a
// transfer fails before its response head.
func (s *Server) failBeforeHeaders(w http.ResponseWriter, task string, err error) {
	s.failTask(task, err)
	w.Header().Set("task-id", task)
	httpError(w, http.StatusInternalServerError, "Internal Error", "")
}
