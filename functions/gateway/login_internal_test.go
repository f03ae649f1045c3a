package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"xbr/shared/config"
)

// aliceLogin is the login of a users file with alice, password "correct
// horse", hashed at cost.
func aliceLogin(t *testing.T, cost int) *login {
	t.Helper()
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
	return l
}

// An unknown user's password is checked against a hash of the users' own
// cost, so the answer takes as long as for a known user: its time does not
// tell which names have an account.
func TestUnknownUserIsCheckedAtTheUsersCost(t *testing.T) {
	const cost = bcrypt.MinCost + 2
	l := aliceLogin(t, cost)
	if got, err := bcrypt.Cost(l.unknownHash); err != nil || got != cost {
		t.Fatalf("an unknown user is checked at cost %d (%v), the users' hashes have %d", got, err, cost)
	}
	ctx := context.Background()
	good := func(u, p string) bool { ok, err := l.check(ctx, u, p); return ok && err == nil }
	if good("eve", "correct horse") || !good("alice", "correct horse") || good("alice", "wrong") {
		t.Fatal("check accepts a wrong login or refuses the right one")
	}
}

// Password checks run one at a time (each is a core for tens of
// milliseconds on purpose): a flood of logins cannot take the cores the
// backups run on. A check waiting for its turn gives up, refused, when its
// request ends.
func TestPasswordChecksRunOneAtATime(t *testing.T) {
	l := aliceLogin(t, bcrypt.MinCost)
	if cap(l.checking) != 1 {
		t.Fatalf("%d password checks may run at once, want 1", cap(l.checking))
	}
	l.checking <- struct{}{} // another check is running
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if ok, err := l.check(ctx, "alice", "correct horse"); ok || err == nil {
		t.Fatalf("a check without its turn: %v, %v; want refused, busy", ok, err)
	}
	l.turnWait = 20 * time.Millisecond // a client that waits for ever is answered too
	if ok, err := l.check(context.Background(), "alice", "correct horse"); ok || !errors.Is(err, errLoginBusy) {
		t.Fatalf("a check that waited its turn longer than turnWait: %v, %v; want errLoginBusy", ok, err)
	}
	<-l.checking
	if ok, err := l.check(context.Background(), "alice", "correct horse"); !ok || err != nil {
		t.Fatalf("the right login once the other check ended: %v, %v", ok, err)
	}
}
