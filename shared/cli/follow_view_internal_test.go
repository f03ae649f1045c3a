package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"xbr/events"
	"xbr/shared/testsupport"
)

// TestBarViewOnTerminal draws on a real pseudo-terminal: a waiting line
// with its elapsed time, a transfer's line, lines above them, and the last
// line written just before Close, which must not be lost in mpb's buffer.
func TestBarViewOnTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	out := &testsupport.SyncBuffer{}
	read := make(chan struct{})
	go func() { _, _ = io.Copy(out, ptmx); close(read) }()
	shows := func(what string) func() bool {
		return func() bool { return strings.Contains(ansi(out.String()), what) }
	}

	if !isTerminal(tty) {
		t.Fatal("the pseudo-terminal is not seen as a terminal")
	}
	v := newBarView(tty)
	v.Waiting("hc", "test VM booting")
	testsupport.Eventually(t, 10*time.Second, "the waiting line", shows("test VM booting"))
	v.Done("hc")
	v.Line("started: %d VM(s)", 1)
	v.Progress("vm", "web-1", events.TransferAt(8<<20, 32<<20, time.Second))
	v.Progress("copy", "db-1", events.TransferAt(5<<20, 0, time.Second)) // a replica: size unknown
	testsupport.Eventually(t, 10*time.Second, "the transfers' lines", func() bool {
		return shows("25 %  8.0 MiB of 32.0 MiB")() && shows("5.0 MiB of ?")()
	})
	v.Done("vm")
	v.Line("last line before close")
	v.Close()
	v.Line("after close")
	only := newBarView(tty) // no bar ever: a line, then Close at once
	only.Line("the only line")
	only.Close()
	tty.Close()
	<-read

	got := ansi(out.String())
	for _, want := range []string{"test VM booting", "started: 1 VM(s)", "web-1", "8.0 MiB of 32.0 MiB", "8.0 MiB/s",
		"ETA 3s", "last line before close", "after close", "the only line"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, got)
		}
	}
}

// ansi drops the escape sequences mpb moves the cursor with.
func ansi(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == '?') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
