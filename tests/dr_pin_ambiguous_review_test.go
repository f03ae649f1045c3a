package tests

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

// TestConfirmedFailoverOfAnAmbiguousNameIsRefused: two source VMs share
// the name "web" and both are replicated. Every door refuses a name the
// copies of several source VMs carry (replicate.Choose: failing over the
// wrong VM is worse than asking for its uuid), and `xbr dr failover web
// --yes` is refused. On a terminal, the CLI shows the newest copy of
// either VM (its name and uuid, not which source VM it copies), and once
// confirmed the request names that copy's uuid, which no longer is
// ambiguous: one of the two VMs is failed over and booted.
func TestConfirmedFailoverOfAnAmbiguousNameIsRefused(t *testing.T) {
	main, standby := drStartPool(t, "main", 2), drStartPool(t, "standby", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, v := range main.sim.VMs() {
		if v.IsSnapshot || v.IsTemplate {
			continue
		}
		if err := main.sim.SetPowerState(v.Ref, "Halted"); err != nil {
			t.Fatal(err)
		}
		if err := main.client.SetNameLabel(ctx, xapi.VMRef(v.Ref), "web"); err != nil {
			t.Fatal(err)
		}
	}
	s := serveDR(t, main, standby, 2, "")
	url := s.natsURL(t)
	if out, errOut, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", url); code != 0 {
		t.Fatalf("run dr: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	if n := len(standby.copies(t)); n != 2 {
		t.Fatalf("%d copies, want one of each VM named web", n)
	}
	if out, errOut, code := xbr(t, ctx, nil, "dr", "failover", "web", "--start", "--yes", "--wait", "--nats", url); code == 0 {
		t.Fatalf("failover web --yes, a name two VMs carry, was not refused:\n%s\n%s", out, errOut)
	}

	cmd := exec.CommandContext(ctx, xbrBin, "dr", "failover", "web", "--start", "--wait", "--nats", url)
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
			if err != nil {
				return
			}
		}
	}()
	asked := func() bool { return strings.Contains(screen.String(), "to go ahead [y/N]") }
	for deadline := time.Now().Add(time.Minute); !asked() && time.Now().Before(deadline) && cmd.ProcessState == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	if asked() {
		if _, err := tty.Write([]byte("y\n")); err != nil {
			t.Fatal(err)
		}
	}
	_ = cmd.Wait()
	<-read
	for _, c := range standby.copies(t) {
		rec, err := standby.client.VMRecord(ctx, c.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if rec.PowerState != xapi.Halted || rec.BlockedOperations["start"] == "" {
			t.Errorf("copy %s of VM %s (one of two VMs named web) was failed over: %s, start blocked %v\n%s",
				c.UUID, c.VMUUID, rec.PowerState, rec.BlockedOperations["start"] != "", screen.String())
		}
	}
}
