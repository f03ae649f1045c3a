package gateway

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"xbr/shared/config"
)

// An unknown user's password is checked against a hash of the users' own
// cost, so the answer takes as long as for a known user: its time does not
// tell which names have an account.
func TestUnknownUserIsCheckedAtTheUsersCost(t *testing.T) {
	const cost = bcrypt.MinCost + 2
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), cost)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(name, []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := newLogin(config.Gateway{UsersFile: name})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := bcrypt.Cost(l.unknownHash); err != nil || got != cost {
		t.Fatalf("an unknown user is checked at cost %d (%v), the users' hashes have %d", got, err, cost)
	}
	if l.check("eve", "correct horse") || !l.check("alice", "correct horse") || l.check("alice", "wrong") {
		t.Fatal("check accepts a wrong login or refuses the right one")
	}
}
