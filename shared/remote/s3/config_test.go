package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

const secret = "SuperSecretValue42"

func validConfig() s3.Config {
	return s3.Config{Name: "gw", Endpoint: "http://127.0.0.1:7070", Bucket: "backups",
		AccessKey: "key", SecretKey: secret}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*s3.Config)
		want   string
	}{
		{"no name", func(c *s3.Config) { c.Name = "" }, "name is empty"},
		{"no scheme", func(c *s3.Config) { c.Endpoint = "127.0.0.1:7070" }, `endpoint "127.0.0.1:7070"`},
		{"ftp", func(c *s3.Config) { c.Endpoint = "ftp://h" }, "scheme must be http or https"},
		{"no host", func(c *s3.Config) { c.Endpoint = "http://" }, "no host"},
		{"user in url", func(c *s3.Config) { c.Endpoint = "http://u:" + secret + "@h" }, "credentials belong"},
		{"path", func(c *s3.Config) { c.Endpoint = "http://h/x" }, "no path"},
		{"bucket", func(c *s3.Config) { c.Bucket = "Bad_Bucket" }, `bucket "Bad_Bucket"`},
		{"empty bucket", func(c *s3.Config) { c.Bucket = "" }, `bucket ""`},
		{"prefix", func(c *s3.Config) { c.Prefix = "a/../b" }, `"a/../b"`},
		{"part floor", func(c *s3.Config) { c.PartFloor = 1 << 20 }, "part floor 1048576"},
		{"no secret", func(c *s3.Config) { c.SecretKey = "" }, "secret_key are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			_, err := s3.New(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
	if _, err := s3.New(context.Background(), validConfig()); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestConfigNeverShowsSecret(t *testing.T) {
	cfg := validConfig()
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("remote", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("secret shown in %q", s)
		}
		if !strings.Contains(s, "backups") {
			t.Errorf("%q does not describe the remote", s)
		}
	}
}

// TestWrongSecretError: a refused request names the remote and key, never the secret.
func TestWrongSecretError(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b, err := s3.New(context.Background(), s3.Config{Name: "gw", Endpoint: g.Endpoint, Bucket: "backups",
		AccessKey: g.AccessKey, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Stat(context.Background(), "vm/x.json")
	if err == nil || !strings.Contains(err.Error(), "remote gw") || !strings.Contains(err.Error(), "vm/x.json") {
		t.Fatalf("Stat with a wrong secret = %v, want an error naming remote and key", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the secret: %v", err)
	}
}

// FuzzConfig: New never panics, never puts the secret in an error, and accepts only http(s)
// endpoints.
func FuzzConfig(f *testing.F) {
	f.Add("http://127.0.0.1:7070", "backups", "pool/a")
	f.Add("https://s3.example.com", "b", "")
	f.Add("http://[::1]:9000/", "xn--bucket", "/x/")
	f.Add("ftp://"+secret, "B", "../x")
	f.Fuzz(func(t *testing.T, endpoint, bucket, prefix string) {
		cfg := validConfig()
		cfg.Endpoint, cfg.Bucket, cfg.Prefix = endpoint, bucket, prefix
		_, err := s3.New(context.Background(), cfg)
		if err != nil {
			if strings.Contains(err.Error(), secret) && !strings.Contains(endpoint+bucket+prefix, secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
			t.Fatalf("accepted endpoint %q", endpoint)
		}
	})
}
