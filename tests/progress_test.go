package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"xbr/shared/xapi/xapisim"
)

// progressDisk and progressRate make a backup of about four seconds (the
// simulated disk is partly sparse: its XVA is about 40 MiB).
const (
	progressDisk = 96 << 20
	progressRate = 10 << 20
)

// TestRunWaitShowsLiveProgress drives `xbr run JOB --wait` under a
// pseudo-terminal against `xbr serve` and a throttled simulator: the VM's
// progress line is redrawn with new numbers at least twice within a second.
// The same run with --json gives at least two progress objects per second
// of transfer, each a JSON object; `xbr restore --wait` of that backup
// moves its line as often.
func TestRunWaitShowsLiveProgress(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: progressDisk, Faults: xapisim.Faults{RateLimit: progressRate}})
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    compression: none
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	s := startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	url := s.natsURL(t)
	vm := p.userVMs()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	reads, code := runOnTerminal(t, ctx, xbrBin, "run", "nightly", "--wait", "--nats", url)
	all := joinReads(reads)
	if code != 0 || !strings.Contains(all, "run ") || !strings.Contains(all, ": success in ") {
		t.Fatalf("xbr run --wait on a terminal: exit %d:\n%q", code, all)
	}
	changes := lineChanges(reads, vm.NameLabel)
	n, at := mostInOneSecond(changes)
	t.Logf("terminal output: %q", all)
	t.Logf("%d distinct progress lines, %d within one second: %v", len(changes), n, changes)
	if n < 2 {
		t.Errorf("the progress line of %s changed at most %d time(s) within a second (at %v); changes: %v\noutput: %q",
			vm.NameLabel, n, at, changes, all)
	}

	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--json", "--nats", url)
	if code != 0 {
		t.Fatalf("xbr run --wait --json: exit %d: %s %s", code, out, errOut)
	}
	backup := checkJSONProgress(t, out)

	// A restore of a few seconds (the simulator throttles /import too)
	// moves its line as well: progress events used to come every 5 s.
	reads, code = runOnTerminal(t, ctx, xbrBin, "restore", backup, "--wait", "--nats", url)
	all = joinReads(reads)
	if code != 0 || !strings.Contains(all, "completed: VM") {
		t.Fatalf("xbr restore --wait on a terminal: exit %d:\n%q", code, all)
	}
	changes = lineChanges(reads, "restore")
	n, at = mostInOneSecond(changes)
	t.Logf("restore: %d distinct progress lines, %d within one second: %v", len(changes), n, changes)
	if n < 2 {
		t.Errorf("the restore's progress line changed at most %d time(s) within a second (at %v)\noutput: %q", n, at, all)
	}
}

// read is one chunk read from the terminal and when it arrived.
type read struct {
	at   time.Time
	data string
}

// runOnTerminal runs name args under a pseudo-terminal of 160×40 and
// returns what it wrote, chunk by chunk, and its exit code.
func runOnTerminal(t *testing.T, ctx context.Context, name string, args ...string) ([]read, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var (
		mu    sync.Mutex
		reads []read
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				mu.Lock()
				reads = append(reads, read{at: time.Now(), data: string(buf[:n])})
				mu.Unlock()
			}
			if err != nil { // EIO once the child has exited and the output is drained
				return
			}
		}
	}()
	err = cmd.Wait()
	<-done
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return reads, code
}

func joinReads(rs []read) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.data)
	}
	return b.String()
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// change is a new text of a progress line and when it was read.
type change struct {
	at   time.Time
	line string
}

func (c change) String() string { return c.at.Format("15:04:05.000") + " " + c.line }

// lineChanges are the successive distinct progress lines of the VM named
// name (its name, then "<bytes> of <total>"), stripped of escape sequences,
// with the time of the read that completed each.
func lineChanges(rs []read, name string) []change {
	var out []change
	pending := ""
	for _, r := range rs {
		pending += r.data
		for {
			i := strings.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			line := strings.TrimSpace(ansi.ReplaceAllString(strings.ReplaceAll(pending[:i], "\r", ""), ""))
			pending = pending[i+1:]
			if !strings.HasPrefix(line, name) || !strings.Contains(line, " of ") {
				continue
			}
			if len(out) == 0 || out[len(out)-1].line != line {
				out = append(out, change{at: r.at, line: line})
			}
		}
	}
	return out
}

// mostInOneSecond is the largest number of changes read within one second
// of each other, and when that window began.
func mostInOneSecond(cs []change) (int, time.Time) {
	best, at := 0, time.Time{}
	for i := range cs {
		n := 0
		for j := i; j < len(cs) && cs[j].at.Sub(cs[i].at) < time.Second; j++ {
			n++
		}
		if n > best {
			best, at = n, cs[i].at
		}
	}
	return best, at
}

// checkJSONProgress parses every line of a --json run as a JSON object,
// counts the export's progress objects against the transfer's duration and
// returns the id of the backup.
func checkJSONProgress(t *testing.T, out string) (backup string) {
	t.Helper()
	var started, completed time.Time
	progress, results := 0, 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var o struct {
			Type, Event string
			Time        time.Time
			Data        map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", sc.Text(), err)
		}
		switch {
		case o.Type == "progress" && o.Event == "xbr.export.progress":
			if _, ok := o.Data["bytes"].(float64); !ok {
				t.Errorf("progress object without bytes: %s", sc.Text())
			}
			progress++
		case o.Event == "xbr.export.started":
			started = o.Time
		case o.Event == "xbr.export.completed":
			completed = o.Time
			if bs, ok := o.Data["backups"].([]any); ok && len(bs) == 1 {
				backup, _ = bs[0].(map[string]any)["backup_id"].(string)
			}
		case o.Type == "result":
			results++
		}
	}
	transfer := completed.Sub(started)
	if started.IsZero() || completed.IsZero() || transfer < 1500*time.Millisecond || results != 1 || backup == "" {
		t.Fatalf("export from %v to %v (%v), %d result(s): a throttled export of a few seconds was expected:\n%s",
			started, completed, transfer, results, out)
	}
	t.Logf("%d progress objects in a %v transfer", progress, transfer)
	if want := int(2 * transfer.Seconds()); progress < want {
		t.Errorf("%d progress objects for a %v transfer, want at least %d:\n%s", progress, transfer, want, out)
	}
	return backup
}
