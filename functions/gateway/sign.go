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

// SignWebhook returns the X-Xbr-Signature value of body sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, "<unix seconds>.<body>")).
func SignWebhook(secret string, ts time.Time, body []byte) string {
	return signaturePrefix + mac(secret, strconv.FormatInt(ts.Unix(), 10)+".", body)
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

// VerifyWebhook checks the X-Xbr-Timestamp and X-Xbr-Signature values of body
// at now. Errors wrap ErrUnauthenticated and never include the secret or the
// expected signature.
func VerifyWebhook(secret, timestamp, signature string, body []byte, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: webhooks are disabled (gateway.webhook_secret is not set)", ErrUnauthenticated)
	}
	ts, err := checkTimestamp(HeaderTimestamp, timestamp, now)
	if err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s: missing or not of the form sha256=<hex>", ErrUnauthenticated, HeaderSignature)
	}
	return compareMAC(HeaderSignature, hexSig, mac(secret, strconv.FormatInt(ts, 10)+".", body))
}

// VerifySlack checks Slack's X-Slack-Request-Timestamp and X-Slack-Signature
// values of body at now.
func VerifySlack(secret, timestamp, signature string, body []byte, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: Slack commands are disabled (gateway.slack_signing_secret is not set)", ErrUnauthenticated)
	}
	ts, err := checkTimestamp(HeaderSlackTimestamp, timestamp, now)
	if err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(signature, slackVersion+"=")
	if !ok {
		return fmt.Errorf("%w: %s: missing or not of the form v0=<hex>", ErrUnauthenticated, HeaderSlackSignature)
	}
	return compareMAC(HeaderSlackSignature, hexSig, mac(secret, slackVersion+":"+strconv.FormatInt(ts, 10)+":", body))
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

func checkTimestamp(header, v string, now time.Time) (int64, error) {
	if v == "" {
		return 0, fmt.Errorf("%w: %s: missing", ErrUnauthenticated, header)
	}
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil || len(v) > 12 {
		return 0, fmt.Errorf("%w: %s: %.20q is not unix seconds", ErrUnauthenticated, header, v)
	}
	d := now.Sub(time.Unix(ts, 0))
	if d > ReplayWindow || d < -ReplayWindow {
		return 0, fmt.Errorf("%w: %s: %d is more than %s from the server's clock", ErrUnauthenticated, header, ts, ReplayWindow)
	}
	return ts, nil
}

func compareMAC(header, gotHex, wantHex string) error {
	got, err := hex.DecodeString(gotHex)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: %s: not a hex HMAC-SHA256", ErrUnauthenticated, header)
	}
	want, _ := hex.DecodeString(wantHex)
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: %s: does not match the body", ErrUnauthenticated, header)
	}
	return nil
}
