package xapisim

import (
	"crypto/subtle"
	"time"
)

// session is a logged-in client; sessions are shared by every transport.
type session struct {
	ref        string
	user       string
	originator string
	lastActive time.Time
}

func (s *Server) sessionMethods(r registry) {
	r.add("session.login_with_password", 2, s.login, noSession, withDefaults("1.1", ""))
	r.add("session.logout", 0, s.logout)
	r.add("session.get_this_host", 1, func(c *call) (any, error) {
		if _, err := c.s.checkSession(c.args[0].(string)); err != nil {
			return nil, err
		}
		return s.thisHost(c.ctx), nil
	})
}

func (s *Server) login(c *call) (any, error) {
	user, err := c.str(0)
	if err != nil {
		return nil, err
	}
	pass, err := c.str(1)
	if err != nil {
		return nil, err
	}
	originator, _ := c.str(3)
	sess, err := s.newSession(user, pass, originator)
	if err != nil {
		return nil, err
	}
	return sess.ref, nil
}

// newSession authenticates user and password against the configured ones.
func (s *Server) newSession(user, pass, originator string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	okUser := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.User)) == 1
	okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password)) == 1
	if !okUser || !okPass || s.faults.RefuseLogins {
		return nil, fail("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure")
	}
	sess := &session{ref: newRef(), user: user, originator: originator, lastActive: s.now()}
	s.sessions[sess.ref] = sess
	return sess, nil
}

func (s *Server) logout(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, c.session.ref)
	return "", nil
}

// checkSession returns the live session ref, or SESSION_INVALID.
func (s *Server) checkSession(ref string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[ref]
	if !ok {
		return nil, fail("SESSION_INVALID", ref)
	}
	sess.lastActive = s.now()
	return sess, nil
}

// Sessions returns the number of live sessions (for tests checking logout).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
