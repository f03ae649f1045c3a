package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenFileLogsInLikeTheToken: $XBR_NATS_TOKEN_FILE (a mounted secret)
// gives the token; $XBR_NATS_TOKEN wins; an unreadable file is an error
// naming the variable and the path.
func TestTokenFileLogsInLikeTheToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nats-token")
	if err := os.WriteFile(file, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XBR_NATS_TOKEN", "")
	t.Setenv("XBR_NATS_TOKEN_FILE", file)
	c := &clientFlags{dataDir: t.TempDir()}
	o, err := c.options()
	if err != nil || o.Token != "s3cret-token" {
		t.Fatalf("options with XBR_NATS_TOKEN_FILE: token %q, err %v; want the file's first line", o.Token, err)
	}
	t.Setenv("XBR_NATS_TOKEN", "from-env")
	if o, _ := c.options(); o.Token != "from-env" {
		t.Errorf("XBR_NATS_TOKEN set too: token %q, want from-env", o.Token)
	}
	t.Setenv("XBR_NATS_TOKEN", "")
	missing := filepath.Join(t.TempDir(), "nope")
	t.Setenv("XBR_NATS_TOKEN_FILE", missing)
	_, err = c.options()
	if err == nil || !strings.Contains(err.Error(), "XBR_NATS_TOKEN_FILE") || !strings.Contains(err.Error(), missing) {
		t.Errorf("unreadable token file: err %v, want one naming XBR_NATS_TOKEN_FILE and %s", err, missing)
	}
}
