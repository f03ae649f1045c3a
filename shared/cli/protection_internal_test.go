package cli

import (
	"strings"
	"testing"

	"xbr/events"
)

func TestProtectionRequestChecksStates(t *testing.T) {
	req, err := protectionRequest("lab", []string{"late", "failing", "unprotected"})
	if err != nil || req.Pool != "lab" || len(req.States) != 3 {
		t.Fatalf("good states: %+v, %v", req, err)
	}
	_, err = protectionRequest("", []string{"late", "sad"})
	if err == nil || !strings.Contains(err.Error(), `--state: unknown state "sad"`) {
		t.Fatalf("an unknown state: %v", err)
	}
}

func TestProtectionOfVMResolvesNamesLikeEveryDoor(t *testing.T) {
	const a, b, c = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	vms := []events.ProtectionVM{
		{Pool: "lab", UUID: a, Name: "web", State: events.ProtectionOK},
		{Pool: "prod", UUID: b, Name: "web", State: events.ProtectionLate},
		{Pool: "lab", UUID: c, Name: "db", State: events.ProtectionLate},
	}
	got, err := protectionOfVM(vms, "db", nil)
	if err != nil || len(got) != 1 || got[0].UUID != c {
		t.Fatalf("by name: %+v %v", got, err)
	}
	if got, err = protectionOfVM(vms, a, []string{events.ProtectionLate}); err != nil || len(got) != 0 {
		t.Fatalf("by uuid, in another state: %+v %v", got, err)
	}
	_, err = protectionOfVM(vms, "web", nil)
	if want := `vm "web": names 2 VMs (` + a + ` in pool lab, ` + b + ` in pool prod): give the uuid`; err == nil || err.Error() != want {
		t.Fatalf("a shared name: %v, want %s", err, want)
	}
	_, err = protectionOfVM(vms, "mail", nil)
	if err == nil || err.Error() != `vm: no VM named "mail" is known to the configured pools and jobs` {
		t.Fatalf("an unknown name: %v", err)
	}
}
