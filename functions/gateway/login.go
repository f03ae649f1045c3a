package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"xbr/shared/config"
)

// login authenticates the page's users: HTTP basic against an htpasswd
// file of bcrypt hashes, or a header set by a trusted proxy.
type login struct {
	users   map[string][]byte // user → bcrypt hash; nil: no basic login
	header  string            // the proxy's user header; "" = no proxy login
	proxies []netip.Prefix
	// unknownHash is compared against for a user not in users, at the
	// users' highest cost, so that the answer takes as long as for a
	// known one and does not tell which names have an account.
	unknownHash []byte

	// checking holds a token while a password is checked: one bcrypt
	// comparison at a time, so that a flood of logins takes one core at
	// most, never the backups' others.
	checking chan struct{}
	// turnWait bounds the wait for that turn [defaultTurnWait]: past it
	// the login is answered 503 (errLoginBusy), not left hanging.
	turnWait time.Duration

	mu     sync.Mutex
	cacheK []byte
	good   map[[sha256.Size]byte]bool // HMAC(user, password) of recent good logins: bcrypt is slow on purpose
}

// maxGoodLogins bounds the cache of verified passwords.
const maxGoodLogins = 1024

func newLogin(g config.Gateway) (*login, error) {
	l := &login{header: g.Auth.ProxyHeader, good: map[[sha256.Size]byte]bool{}, cacheK: make([]byte, 32),
		checking: make(chan struct{}, 1), turnWait: defaultTurnWait}
	_, _ = rand.Read(l.cacheK)
	for _, c := range g.Auth.TrustedProxies {
		p, err := config.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("gateway.auth.trusted_proxies: %q: %w", c, err)
		}
		l.proxies = append(l.proxies, p)
	}
	if g.UsersFile != "" {
		users, err := ReadUsersFile(g.UsersFile)
		if err != nil {
			return nil, err
		}
		l.users = users
		if l.unknownHash, err = hashForUnknownUsers(users); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// hashForUnknownUsers is a hash of no password at the highest cost of users.
func hashForUnknownUsers(users map[string][]byte) ([]byte, error) {
	cost := bcrypt.MinCost
	for _, h := range users {
		if c, err := bcrypt.Cost(h); err == nil {
			cost = max(cost, c)
		}
	}
	h, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if err != nil {
		return nil, fmt.Errorf("gateway.users_file: %w", err)
	}
	return h, nil
}

func (l *login) enabled() bool { return l.users != nil || l.header != "" }

// authenticate returns the request's user, or answers 401 and returns false.
func (l *login) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !l.enabled() {
		return "", true
	}
	if l.header != "" && l.fromTrustedProxy(r) {
		vals := r.Header.Values(l.header)
		if len(vals) > 1 {
			// A proxy that appends the header instead of replacing it passes the
			// client's own first: never guess which one is the proxy's.
			reqLog(r).Warn("request refused", "status", http.StatusUnauthorized, "err", "the proxy sent the user header more than once", "header", l.header)
			http.Error(w, "401 the proxy sent "+l.header+" more than once: configure it to replace that header, not to add to it", http.StatusUnauthorized)
			return "", false
		}
		if u := r.Header.Get(l.header); u != "" && checkUserName(u) == nil {
			return u, true
		}
	}
	if l.users != nil {
		if u, p, ok := r.BasicAuth(); ok {
			good, err := l.check(r.Context(), u, p)
			if good {
				return u, true
			}
			if errors.Is(err, errLoginBusy) {
				w.Header().Set("Retry-After", "5")
				reqLog(r).Warn("request refused", "status", http.StatusServiceUnavailable, "err", err)
				http.Error(w, "503 too many logins at once: try again in a few seconds", http.StatusServiceUnavailable)
				return "", false
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="xbr", charset="UTF-8"`)
	}
	reqLog(r).Warn("request refused", "status", http.StatusUnauthorized, "err", "no valid login")
	http.Error(w, "401 log in to use this page", http.StatusUnauthorized)
	return "", false
}

func (l *login) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range l.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// defaultTurnWait is how long a login waits for its turn to be checked.
const defaultTurnWait = 10 * time.Second

// errLoginBusy: a login waited longer than turnWait for its password check.
var errLoginBusy = errors.New("too many logins at once")

// check reports whether password is user's. A check that cannot have its
// turn (see checking) within turnWait, or before ctx ends, is not done:
// false with errLoginBusy (or ctx's error).
func (l *login) check(ctx context.Context, user, password string) (bool, error) {
	h := hmac.New(sha256.New, l.cacheK)
	h.Write([]byte(user + "\x00" + password))
	var k [sha256.Size]byte
	copy(k[:], h.Sum(nil))
	l.mu.Lock()
	ok := l.good[k]
	l.mu.Unlock()
	if ok {
		return true, nil
	}
	hash, known := l.users[user]
	if !known {
		hash = l.unknownHash
	}
	turn := time.NewTimer(l.turnWait)
	defer turn.Stop()
	select {
	case l.checking <- struct{}{}:
		defer func() { <-l.checking }()
	case <-turn.C:
		return false, errLoginBusy
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		return false, nil
	}
	l.mu.Lock()
	if len(l.good) >= maxGoodLogins {
		clear(l.good)
	}
	l.good[k] = true
	l.mu.Unlock()
	return true, nil
}
