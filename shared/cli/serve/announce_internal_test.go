package serve

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"xbr/shared/config"
	"xbr/shared/fn"
)

// TestAnnounceHidesTheNATSLogin: `xbr serve --nats nats://user:password@host`
// is a URL nats.go logs in with (bus.Connect redacts it in its own log line
// and errors); the "xbr serving" line must not print the password either.
func TestAnnounceHidesTheNATSLogin(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	env := &fn.Env{NATSURL: "nats://alice:s3cret-pw@n1:4222,nats://alice:s3cret-pw@n2:4222", HTTPListen: "127.0.0.1:8080"}
	announce(log, &config.Config{File: "xbr.yaml"}, env, nil)
	if strings.Contains(buf.String(), "s3cret-pw") {
		t.Fatalf("the startup log prints the NATS password:\n%s", buf.String())
	}
}
