package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// FormTokenTTL is how long a form's token is accepted after the page that
// carries it was served.
const FormTokenTTL = 2 * time.Hour

// formTokens issues and checks the page's form tokens (the "nonce" field):
//
//	<expiry unix seconds>.<32 hex random>.<hex HMAC-SHA256(key, "xbr-form\n<action>\n<user>\n<expiry>\n<random>")>
//
// A token is bound to the form's action and to the user the page was served
// to, and expires. The key is derived from gateway.csrf_secret (the same on
// every replica) or drawn at random when the gateway starts (then a form
// must be reloaded after a restart). The random part is the form's
// idempotency key: submitting one form twice is one request.
type formTokens struct {
	key []byte
	now func() time.Time
}

func newFormTokens(secret string, now func() time.Time) formTokens {
	if secret == "" {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		return formTokens{key: k, now: now}
	}
	k := sha256.Sum256([]byte("xbr csrf key\n" + secret))
	return formTokens{key: k[:], now: now}
}

// Issue returns a new token for the form posted to action by user.
func (f formTokens) Issue(action, user string) string {
	exp := strconv.FormatInt(f.now().Add(FormTokenTTL).Unix(), 10)
	nonce := newNonce()
	return exp + "." + nonce + "." + f.mac(action, user, exp, nonce)
}

func (f formTokens) mac(action, user, exp, nonce string) string {
	h := hmac.New(sha256.New, f.key)
	h.Write([]byte("xbr-form\n" + action + "\n" + user + "\n" + exp + "\n" + nonce))
	return hex.EncodeToString(h.Sum(nil))
}

// Check verifies token for action and user and returns its random part.
func (f formTokens) Check(token, action, user string) (string, error) {
	exp, nonce, sig, ok := splitFormToken(token)
	if !ok {
		return "", badField("nonce", "", "missing or malformed: reload the form")
	}
	want, _ := hex.DecodeString(f.mac(action, user, exp, nonce))
	got, _ := hex.DecodeString(sig)
	if !hmac.Equal(got, want) {
		return "", badField("nonce", "", "not issued by this gateway for this form and user: reload the form")
	}
	if n, _ := strconv.ParseInt(exp, 10, 64); f.now().After(time.Unix(n, 0)) {
		return "", badField("nonce", "", "the form has expired: reload it")
	}
	return nonce, nil
}

// splitFormToken checks a token's shape: digits, 32 and 64 lower-case hex.
func splitFormToken(token string) (exp, nonce, sig string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) != 32 || len(parts[2]) != 64 {
		return "", "", "", false
	}
	if _, err := ParseUnixSeconds(parts[0]); err != nil || !isLowerHex(parts[1]) || !isLowerHex(parts[2]) {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// IsFormToken reports whether s has the shape of a form token.
func IsFormToken(s string) bool { _, _, _, ok := splitFormToken(s); return ok }

func isLowerHex(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) < 0
}
