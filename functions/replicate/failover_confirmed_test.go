package replicate_test

import (
	"context"
	"strings"
	"testing"

	"xbr/shared/failovers"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// A confirmed request names its copy (its uuid and recovery point): when
// that copy was pruned, or is not complete, by the time the request is
// handled, the failover fails saying so, and no other copy (the newer one
// that replaced it) is failed over in its place.
func TestConfirmedFailoverFailsWhenItsCopyIsGone(t *testing.T) {
	h := newDRHarness(t)
	h.serve(t)
	vm, confirmed := h.replicateVM(t, xapi.Halted)
	_, newer := h.replicateVM(t, xapi.Halted) // copy retention 1: prunes the confirmed copy
	if cs := h.standby.copiesOf(t, vm.UUID); len(cs) != 1 || cs[0].UUID != newer.UUID {
		t.Fatalf("copies after the second replication: %+v, want only %s", cs, newer.UUID)
	}
	p := failovers.Params{VM: vm.NameLabel, Start: true, RequestedBy: "cli:ops@admin1"}
	st := h.ask(t, p.Confirmed(confirmed.CopyRecord))
	if st.State != failovers.StateFailed || st.Refused() || !strings.Contains(st.Error(), "no complete copy") ||
		!strings.Contains(st.Error(), "pruned or destroyed since it was shown") || !strings.Contains(st.Error(), "no other copy is failed over in its place") {
		t.Fatalf("failover to a pruned copy: %s %+v %+v", st.State, st.Completed, st.Failed)
	}
	if power, blocked := h.copyState(t, newer); power != xapi.Halted || !blocked {
		t.Fatalf("the newer copy was failed over in place of the pruned one: power %s, start blocked %v", power, blocked)
	}

	// The copy is there but no longer complete (its SR key is gone).
	if err := h.standby.client.RemoveFromOtherConfig(context.Background(), newer.Ref, xotag.KeySR); err != nil {
		t.Fatal(err)
	}
	st = h.ask(t, p.Confirmed(newer.CopyRecord))
	want := "copy " + newer.UUID + " (" + newer.Name + ") is not complete"
	if st.State != failovers.StateFailed || !strings.Contains(st.Error(), want) {
		t.Fatalf("failover to an incomplete copy: %s %+v %+v, want %q", st.State, st.Completed, st.Failed, want)
	}
	if power, blocked := h.copyState(t, newer); power != xapi.Halted || !blocked {
		t.Fatalf("the incomplete copy was failed over: power %s, start blocked %v", power, blocked)
	}
	if st.Failed.VM != newer.UUID || st.Failed.RequestedBy != "cli:ops@admin1" {
		t.Errorf("failed event: %+v", st.Failed)
	}
}
