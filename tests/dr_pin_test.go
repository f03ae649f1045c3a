package tests

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"xbr/functions/replicate"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

// TestFailoverStartsTheConfirmedCopy: `xbr dr failover VM` on a terminal
// shows the copy it will start and asks; a replication that completes a
// newer copy while the question is on screen must not change which copy is
// failed over. The operator confirmed copy A; copy B never was shown.
func TestFailoverStartsTheConfirmedCopy(t *testing.T) {
	main, standby := drStartPool(t, "main", 1), drStartPool(t, "standby", 1)
	vm := main.sim.VMs()[0]
	for _, v := range main.sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate {
			vm = v
		}
	}
	if err := main.sim.SetPowerState(vm.Ref, "Halted"); err != nil { // no split brain to refuse
		t.Fatal(err)
	}
	s := serveDR(t, main, standby, 2, "")
	url := s.natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	replicateOnce := func() replicate.Copy {
		t.Helper()
		if out, errOut, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", url); code != 0 {
			t.Fatalf("run dr: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
		}
		cs := standby.copies(t)
		return cs[len(cs)-1] // oldest recovery point first
	}
	confirmed := replicateOnce()

	cmd := exec.CommandContext(ctx, xbrBin, "dr", "failover", vm.NameLabel, "--start", "--wait", "--nats", url)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen testsupport.SyncBuffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			_, _ = screen.Write(buf[:n])
			if err != nil { // EIO once the command exited
				return
			}
		}
	}()
	asked := func() bool { return strings.Contains(screen.String(), "to go ahead [y/N]") }
	for deadline := time.Now().Add(time.Minute); !asked() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !asked() || !strings.Contains(screen.String(), confirmed.UUID) {
		t.Fatalf("the failover did not show copy %s and ask:\n%s", confirmed.UUID, screen.String())
	}

	// While the question is on screen, a newer copy completes. Recovery
	// points are whole seconds: let the clock pass the confirmed one's.
	for !time.Now().UTC().Truncate(time.Second).After(confirmed.Datetime) {
		time.Sleep(50 * time.Millisecond)
	}
	newer := replicateOnce()
	if newer.UUID == confirmed.UUID || !newer.Datetime.After(confirmed.Datetime) {
		t.Fatalf("no newer copy: confirmed %+v, latest %+v", confirmed, newer)
	}

	if _, err := tty.Write([]byte("y\n")); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	<-read
	out := screen.String()
	if werr != nil || !strings.Contains(out, "completed: failover of") {
		t.Fatalf("confirmed failover: %v\n%s\nserver:\n%s", werr, out, s.output())
	}
	state := func(c replicate.Copy) string {
		rec, err := standby.client.VMRecord(ctx, c.Ref)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s, start blocked %v", rec.PowerState, rec.BlockedOperations["start"] != "")
	}
	want := fmt.Sprintf("%s, start blocked false", xapi.Running)
	if got := state(confirmed); got != want || strings.Contains(out, "to copy "+newer.UUID) {
		t.Fatalf("the failover started another copy than the one confirmed:\nconfirmed %s (%s): %s\nnewer     %s (%s): %s\n%s",
			confirmed.UUID, confirmed.Name, got, newer.UUID, newer.Name, state(newer), out)
	}
	if got := state(newer); got != fmt.Sprintf("%s, start blocked true", xapi.Halted) {
		t.Errorf("the newer copy, never confirmed, was touched: %s", got)
	}
}
