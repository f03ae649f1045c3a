package cli_test

import (
	"strings"
	"testing"
)

// TestHelpHidesTheLoginOfXBR_NATS_URL: $XBR_NATS_URL may carry a login
// (nats://user:password@host, which the client logs in with); --help prints
// the flag's default, which must not be the password.
func TestHelpHidesTheLoginOfXBR_NATS_URL(t *testing.T) {
	t.Setenv("XBR_NATS_URL", "nats://alice:s3cret-pw@n1:4222")
	code, out, errOut := run(t, "jobs", "ls", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, "s3cret-pw") {
		line := out[strings.Index(out, "--nats "):]
		t.Fatalf("--help prints the password of $XBR_NATS_URL: %s", line[:strings.IndexByte(line, '\n')])
	}
}
