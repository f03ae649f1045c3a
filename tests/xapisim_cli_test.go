package tests

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"xbr/shared/xapi"
)

// TestXapiSimHostsCommand runs `xbr xapi-sim --hosts 2` as a process: it
// prints each host's HTTPS URL and certificate fingerprint; a client pinned
// to host 2 is sent to the master by HOST_IS_SLAVE and reads a disk of
// host 2's local SR through the master's redirect.
func TestXapiSimHostsCommand(t *testing.T) {
	cmd := exec.Command(xbrBin, "xapi-sim", "--hosts", "2", "--listen", "127.0.0.1:0", "--disk-size", "1MiB",
		"--data-dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	hostLine := regexp.MustCompile(`^host (\d): (https://127\.0\.0\.1:\d+) tls_fingerprint: ([0-9a-f]{64})$`)
	urls, pins := map[string]string{}, map[string]string{}
	lines := bufio.NewScanner(out)
	for len(urls) < 2 && lines.Scan() {
		if m := hostLine.FindStringSubmatch(lines.Text()); m != nil {
			urls[m[1]], pins[m[1]] = m[2], m[3]
		}
	}
	if len(urls) != 2 {
		t.Fatalf("xapi-sim printed %d host lines, want 2", len(urls))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := xapi.New(urls["2"], xapi.WithFingerprint(pins["2"]))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "root", "xapisim"); err != nil {
		t.Fatal(err)
	}
	if c.URL() != urls["1"] {
		t.Fatalf("the client logged in at %s, want the master %s", c.URL(), urls["1"])
	}
	vdis, err := c.VDIs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := false
	for ref, vdi := range vdis {
		if vdi.NameLabel != "vm-02 disk 0" {
			continue
		}
		tr, err := c.ExportRawVDI(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil || n != 1<<20 {
			t.Fatalf("read %d bytes of vm-02's disk: %v", n, err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		read = true
	}
	if !read {
		t.Fatal("no disk named vm-02 disk 0")
	}
}
