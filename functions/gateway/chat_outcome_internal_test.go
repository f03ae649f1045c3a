package gateway

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckResponseURL: an accepted response_url is absolute http(s) with
// a host and no login; a refusal never quotes the URL (its path is a token).
func FuzzCheckResponseURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/commands/T1/2/tok", "http://127.0.0.1:8065/hooks/commands/x",
		"file:///etc/passwd", "https://u:p@h/x", "/rel", "", "https://", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkResponseURL(raw)
		if err != nil {
			if len(raw) > 12 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the refusal quotes the URL: %v", err)
			}
			return
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			t.Fatalf("accepted %q as %+v", raw, u)
		}
	})
}

// FuzzParseForm: a chat command's form is read with each field once, or
// refused with an error that names the field given twice (or the body).
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"command=%2Fxbr&text=restore+x", "text=a&text=b", "a=%zz", "=&=", "token=t;x=y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := parseForm([]byte(body))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || (fe.Field != "body" && !strings.Contains(body, url.QueryEscape(fe.Field)) && !strings.Contains(body, fe.Field)) {
				t.Fatalf("parseForm(%q): %v does not name a field of the body", body, err)
			}
			return
		}
		for k, v := range form {
			if len(v) != 1 {
				t.Fatalf("parseForm(%q): field %q given %d times, accepted", body, k, len(v))
			}
		}
	})
}
