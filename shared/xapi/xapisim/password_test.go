package xapisim_test

import (
	"net/http"
	"testing"

	"xbr/shared/xapi/xapisim"
)

// TestPasswordChangedThenSessionsExpired: an open session outlives a
// password change, as on a real pool; once sessions expire only the new
// password logs in.
func TestPasswordChangedThenSessionsExpired(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	user, old := s.Credentials()
	sess := login(t, s, url)
	s.SetPassword("changed")
	must(t, url, "pool.get_all", sess)
	s.ExpireSessions()
	mustFail(t, url, "SESSION_INVALID", "pool.get_all", sess)
	mustFail(t, url, "SESSION_AUTHENTICATION_FAILED", "session.login_with_password", user, old)
	must(t, url, "session.login_with_password", user, "changed")
	if _, pass := s.Credentials(); pass != "changed" {
		t.Errorf("Credentials password %q, want the new one", pass)
	}
}

// TestServerErrorFault: with ServerError every request gets HTTP 500.
func TestServerErrorFault(t *testing.T) {
	s, url := newSim(t, xapisim.Options{Faults: xapisim.Faults{ServerError: true}})
	if code, _, _ := post(t, url, `<?xml version="1.0"?><methodCall><methodName>pool.get_all</methodName><params/></methodCall>`); code != http.StatusInternalServerError {
		t.Errorf("XML-RPC: HTTP %d, want 500", code)
	}
	s.SetFaults(xapisim.Faults{})
	user, pass := s.Credentials()
	must(t, url, "session.login_with_password", user, pass)
}
