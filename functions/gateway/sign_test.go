package gateway_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/functions/gateway"
)

func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_714_528_813, 0)
	body := []byte(`{"backup_id":"nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20240501T020013Z"}`)
	sig := func(ts time.Time) string { return gateway.SignWebhook("s3cret", ts, "POST", "/v1/restores", body) }
	ts := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	tests := []struct {
		name, secret, ts, sig string
		body                  []byte
		ok                    bool
	}{
		{"right", "s3cret", ts(now), sig(now), body, true},
		{"5 minutes old", "s3cret", ts(now.Add(-5 * time.Minute)), sig(now.Add(-5 * time.Minute)), body, true},
		{"5 minutes ahead", "s3cret", ts(now.Add(5 * time.Minute)), sig(now.Add(5 * time.Minute)), body, true},
		{"too old", "s3cret", ts(now.Add(-5*time.Minute - time.Second)), sig(now.Add(-5*time.Minute - time.Second)), body, false},
		{"too far ahead", "s3cret", ts(now.Add(5*time.Minute + time.Second)), sig(now.Add(5*time.Minute + time.Second)), body, false},
		{"no signature", "s3cret", ts(now), "", body, false},
		{"no timestamp", "s3cret", "", sig(now), body, false},
		{"timestamp not a number", "s3cret", "yesterday", sig(now), body, false},
		{"wrong secret", "other", ts(now), sig(now), body, false},
		{"body changed", "s3cret", ts(now), sig(now), append([]byte(" "), body...), false},
		{"timestamp changed", "s3cret", ts(now.Add(time.Second)), sig(now), body, false},
		{"no sha256= prefix", "s3cret", ts(now), strings.TrimPrefix(sig(now), "sha256="), body, false},
		{"not hex", "s3cret", ts(now), "sha256=" + strings.Repeat("zz", 32), body, false},
		{"truncated", "s3cret", ts(now), sig(now)[:40], body, false},
		{"upper-case hex of the right mac", "s3cret", ts(now), "sha256=" + strings.ToUpper(strings.TrimPrefix(sig(now), "sha256=")), body, true},
		{"no secret configured", "", ts(now), gateway.SignWebhook("", now, "POST", "/v1/restores", body), body, false},
		{"leading zero", "s3cret", "0" + ts(now), sig(now), body, false},
		{"plus sign", "s3cret", "+" + ts(now), sig(now), body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.VerifyWebhook(tc.secret, gateway.Webhook{Timestamp: tc.ts, Signature: tc.sig,
				Method: "POST", Target: "/v1/restores", Body: tc.body}, now)
			if tc.ok != (err == nil) {
				t.Fatalf("VerifyWebhook: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, gateway.ErrUnauthenticated) {
				t.Errorf("error %v does not wrap ErrUnauthenticated", err)
			}
			if err != nil && tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func TestVerifySlack(t *testing.T) {
	now := time.Unix(1_714_528_813, 0)
	body := []byte("token=x&text=help&user_name=alice")
	ts := fmt.Sprint(now.Unix())
	good := gateway.SignSlack("slk", now, body)
	if !strings.HasPrefix(good, "v0=") || len(good) != 3+64 {
		t.Fatalf("SignSlack = %q, want v0=<64 hex>", good)
	}
	tests := []struct {
		name, ts, sig string
		at            time.Time
		ok            bool
	}{
		{"right", ts, good, now, true},
		{"replayed after 6 minutes", ts, good, now.Add(6 * time.Minute), false},
		{"from 6 minutes in the future", ts, good, now.Add(-6 * time.Minute), false},
		{"webhook scheme instead", ts, gateway.SignWebhook("slk", now, "POST", "/v1/chat/slack", body), now, false},
		{"leading zero", "0" + ts, good, now, false},
		{"v1", ts, "v1=" + strings.TrimPrefix(good, "v0="), now, false},
		{"missing", ts, "", now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.VerifySlack("slk", tc.ts, tc.sig, body, tc.at)
			if tc.ok != (err == nil) {
				t.Fatalf("VerifySlack: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVerifyToken(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"tok", "tok", true},
		{"tok", "tok2", false},
		{"tok", "to", false},
		{"tok", "", false},
		{"", "", false}, // not configured: nothing passes
	}
	for _, tc := range tests {
		if err := gateway.VerifyToken(tc.want, tc.got); tc.ok != (err == nil) {
			t.Errorf("VerifyToken(%q, %q) = %v, want ok=%v", tc.want, tc.got, err, tc.ok)
		}
	}
}

func TestVerifyWebhookBindsMethodAndTarget(t *testing.T) {
	now := time.Unix(1_714_528_813, 0)
	body := []byte(`{"vm":"vm-01","start":true}`)
	sig := gateway.SignWebhook("s3cret", now, "POST", "/v1/restores", body)
	for _, w := range []gateway.Webhook{
		{Method: "POST", Target: "/v1/failovers"},
		{Method: "PUT", Target: "/v1/restores"},
		{Method: "POST", Target: "/v1/restores?x=1"},
		{Method: "POST", Target: "/v1/restores\n"},
	} {
		w.Timestamp, w.Signature, w.Body = fmt.Sprint(now.Unix()), sig, body
		if _, err := gateway.VerifyWebhook("s3cret", w, now); !errors.Is(err, gateway.ErrUnauthenticated) {
			t.Errorf("%s %q: %v, want unauthenticated", w.Method, w.Target, err)
		}
	}
}

func TestParseUnixSeconds(t *testing.T) {
	for v, ok := range map[string]bool{"0": true, "1714528813": true, "": false, "+1": false, "-1": false,
		"01": false, "00": false, "+0": false, " 1": false, "1 ": false, "1e3": false, "0x10": false,
		"1234567890123": false, "１": false} {
		if _, err := gateway.ParseUnixSeconds(v); ok != (err == nil) {
			t.Errorf("ParseUnixSeconds(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func FuzzParseUnixSeconds(f *testing.F) {
	for _, s := range []string{"0", "1714528813", "+1", "01", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := gateway.ParseUnixSeconds(v)
		if err == nil && fmt.Sprint(n) != v {
			t.Fatalf("%q accepted as %d: not the only text of that time", v, n)
		}
	})
}

// The README's worked example is recomputed here, so it cannot drift.
func TestREADMEWorkedExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"backup_id":"nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20240501T020013Z","pool":"lab"}`
	sig := gateway.SignWebhook("whsec-example", time.Unix(1714528813, 0), "POST", "/v1/restores", []byte(body))
	for _, want := range []string{"`whsec-example`", "`1714528813`", "`" + body + "`", "X-Xbr-Signature: " + sig,
		`"<timestamp>\n<METHOD>\n<path?query>\n<raw body>"`} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	got := string(gateway.WebhookSigningString("1714528813", "POST", "/v1/restores", []byte(body)))
	if got != "1714528813\nPOST\n/v1/restores\n"+body {
		t.Errorf("signed string %q", got)
	}
}
