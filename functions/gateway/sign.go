package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook authentication headers (the scheme of Stripe's and GitHub's webhooks).
const (
	HeaderTimestamp = "X-Xbr-Timestamp"
	HeaderSignature = "X-Xbr-Signature"
	signaturePrefix = "sha256="
)

// Slack's request-signing headers.
const (
	HeaderSlackTimestamp = "X-Slack-Request-Timestamp"
	HeaderSlackSignature = "X-Slack-Signature"
	slackVersion         = "v0"
)

// ReplayWindow is how far a signed request's timestamp may be from the
// gateway's clock, in either direction.
const ReplayWindow = 5 * time.Minute

// ErrUnauthenticated is wrapped by every signature and token failure.
var ErrUnauthenticated = errors.New("unauthenticated")

// SignWebhook returns the X-Xbr-Signature value of a request sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, WebhookSigningString(...))).
// target is the request target as sent: the path with its query, if any
// ("/v1/restores", "/v1/restores/<id>?x=1").
func SignWebhook(secret string, ts time.Time, method, target string, body []byte) string {
	return signaturePrefix + mac(secret, webhookPrefix(strconv.FormatInt(ts.Unix(), 10), method, target), body)
}

// WebhookSigningString is the exact text an X-Xbr-Signature covers: the
// timestamp header's text, the method, the request target (path and query)
// and the raw body, the first three each followed by a newline (none of
// them can contain one, so the string is unambiguous):
//
//	"<unix seconds>\n<METHOD>\n<path?query>\n<raw body>"
func WebhookSigningString(timestamp, method, target string, body []byte) []byte {
	return append([]byte(webhookPrefix(timestamp, method, target)), body...)
}

func webhookPrefix(timestamp, method, target string) string {
	return timestamp + "\n" + method + "\n" + target + "\n"
}

// SignSlack returns the X-Slack-Signature value of body sent at ts:
// "v0=" + hex(HMAC-SHA256(secret, "v0:<unix seconds>:<body>")).
func SignSlack(secret string, ts time.Time, body []byte) string {
	return slackVersion + "=" + mac(secret, slackVersion+":"+strconv.FormatInt(ts.Unix(), 10)+":", body)
}

func mac(secret, prefix string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(prefix))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Webhook is a signed request as the gateway received it.
type Webhook struct {
	Timestamp, Signature string // the X-Xbr-Timestamp and X-Xbr-Signature values
	Method, Target       string // the method and the request target (path?query) as sent
	Body                 []byte
}

// VerifyWebhook checks the signature of w at now and returns the MAC it
// carries (the key under which the request is remembered as seen). Errors
// wrap ErrUnauthenticated and never include the secret or the expected
// signature.
func VerifyWebhook(secret string, w Webhook, now time.Time) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: webhooks are disabled (gateway.webhook_secret is not set)", ErrUnauthenticated)
	}
	if err := checkTimestamp(HeaderTimestamp, w.Timestamp, now); err != nil {
		return nil, err
	}
	hexSig, ok := strings.CutPrefix(w.Signature, signaturePrefix)
	if !ok {
		return nil, fmt.Errorf("%w: %s: missing or not of the form sha256=<hex>", ErrUnauthenticated, HeaderSignature)
	}
	return compareMAC(HeaderSignature, hexSig, mac(secret, webhookPrefix(w.Timestamp, w.Method, w.Target), w.Body))
}

// VerifySlack checks Slack's X-Slack-Request-Timestamp and X-Slack-Signature
// values of body at now and returns the MAC.
func VerifySlack(secret, timestamp, signature string, body []byte, now time.Time) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: Slack commands are disabled (gateway.slack_signing_secret is not set)", ErrUnauthenticated)
	}
	if err := checkTimestamp(HeaderSlackTimestamp, timestamp, now); err != nil {
		return nil, err
	}
	hexSig, ok := strings.CutPrefix(signature, slackVersion+"=")
	if !ok {
		return nil, fmt.Errorf("%w: %s: missing or not of the form v0=<hex>", ErrUnauthenticated, HeaderSlackSignature)
	}
	return compareMAC(HeaderSlackSignature, hexSig, mac(secret, slackVersion+":"+timestamp+":", body))
}

// VerifyToken compares a shared token (Mattermost's) in constant time: both
// sides are hashed first so that not even the length leaks.
func VerifyToken(want, got string) error {
	if want == "" {
		return fmt.Errorf("%w: Mattermost commands are disabled (gateway.mattermost_token is not set)", ErrUnauthenticated)
	}
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	if got == "" || !hmac.Equal(w[:], g[:]) {
		return fmt.Errorf("%w: token: missing or wrong", ErrUnauthenticated)
	}
	return nil
}

// checkTimestamp accepts only unix seconds in canonical decimal (digits, no
// sign, no leading zero, no space): the text signed is then the only text
// of that time, and one time has one signature.
func checkTimestamp(header, v string, now time.Time) error {
	if v == "" {
		return fmt.Errorf("%w: %s: missing", ErrUnauthenticated, header)
	}
	ts, err := ParseUnixSeconds(v)
	if err != nil {
		return fmt.Errorf("%w: %s: %.20q %v", ErrUnauthenticated, header, v, err)
	}
	d := now.Sub(time.Unix(ts, 0))
	if d > ReplayWindow || d < -ReplayWindow {
		return fmt.Errorf("%w: %s: %d is more than %s from the server's clock", ErrUnauthenticated, header, ts, ReplayWindow)
	}
	return nil
}

// ParseUnixSeconds reads a timestamp header: 1 to 12 decimal digits, with no
// leading zero (except "0" itself).
func ParseUnixSeconds(v string) (int64, error) {
	if len(v) == 0 || len(v) > 12 {
		return 0, errors.New("is not unix seconds (1 to 12 digits)")
	}
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, errors.New("is not unix seconds (digits only, no sign or space)")
		}
	}
	if len(v) > 1 && v[0] == '0' {
		return 0, errors.New("is not unix seconds (no leading zero)")
	}
	return strconv.ParseInt(v, 10, 64)
}

func compareMAC(header, gotHex, wantHex string) ([]byte, error) {
	got, err := hex.DecodeString(gotHex)
	if err != nil || len(got) != sha256.Size {
		return nil, fmt.Errorf("%w: %s: not a hex HMAC-SHA256", ErrUnauthenticated, header)
	}
	want, _ := hex.DecodeString(wantHex)
	if !hmac.Equal(got, want) {
		return nil, fmt.Errorf("%w: %s: does not match the request", ErrUnauthenticated, header)
	}
	return want, nil
}
