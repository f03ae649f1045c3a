package tests

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVerifyThroughTheServer runs the README's tour: with no configuration
// file, `xbr verify` asks the running demo server, which has the remotes.
func TestVerifyThroughTheServer(t *testing.T) {
	data := t.TempDir()
	s := startServe(t, nil, "--data-dir", data, "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	url := s.natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, errOut, code := xbr(t, ctx, nil, "run", "demo-nightly", "--wait", "--nats", url); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := xbr(t, ctx, nil, "backups", "ls", "--json", "--nats", url)
	var backups []struct {
		ID     string `json:"id"`
		VMUUID string `json:"vm_uuid"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &backups) != nil || len(backups) == 0 {
		t.Fatalf("backups ls: exit %d: %s %s", code, out, errOut)
	}
	id := backups[0].ID
	env := []string{"XBR_CONFIG="} // no configuration file: ask the server
	out, errOut, code = xbr(t, ctx, env, "verify", id, "--deep", "--nats", url)
	if code != 0 || !strings.Contains(out, "1 verified, 0 failed") {
		t.Fatalf("verify of a good backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if reports := verifyJSON(t, ctx, env, 0, id, url); len(reports) != 1 || !reports[0].OK || reports[0].ID != id {
		t.Fatalf("verify --json of a good backup: %+v, want one ok report of %s", reports, id)
	}

	// Flip one byte in the middle of the stored .xva: verify must fail.
	ts := id[strings.LastIndex(id, "/")+1:]
	xva := filepath.Join(data, "remote", "xo-vm-backups", backups[0].VMUUID, ts+".xva")
	flipByte(t, xva)
	out, errOut, code = xbr(t, ctx, env, "verify", id, "--nats", url)
	if code != 1 || !strings.Contains(out, "FAILED") {
		t.Fatalf("verify of a corrupted backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if reports := verifyJSON(t, ctx, env, 1, id, url); len(reports) != 1 || reports[0].OK || reports[0].Error == "" {
		t.Fatalf("verify --json of a corrupted backup: %+v, want one failed report with its error", reports)
	}
	if _, errOut, code = xbr(t, ctx, env, "verify", "local:../../etc/passwd", "--nats", url); code != 2 {
		t.Errorf("verify of a hostile id: exit %d, want 2 (%s)", code, errOut)
	}
}

// verifyReport is the part of `xbr verify --json` these tests read.
type verifyReport struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// verifyJSON runs `xbr verify ID --json`, wants exit code want, and decodes
// the reports.
func verifyJSON(t *testing.T, ctx context.Context, env []string, want int, id, url string) []verifyReport {
	t.Helper()
	out, errOut, code := xbr(t, ctx, env, "verify", id, "--json", "--nats", url)
	var reports []verifyReport
	if code != want || json.Unmarshal([]byte(out), &reports) != nil {
		t.Fatalf("verify --json: exit %d (want %d)\n%s\n%s", code, want, out, errOut)
	}
	return reports
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := st.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
