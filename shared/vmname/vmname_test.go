package vmname_test

import (
	"errors"
	"strings"
	"testing"

	"xbr/shared/vmname"
)

func TestResolve(t *testing.T) {
	const a, b, c = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	known := []vmname.Known{{UUID: c, Name: "web", Pool: "prod"}, {UUID: a, Name: "web"}, {UUID: a, Name: "web", Pool: "lab"},
		{UUID: b, Name: "db"}}
	for vm, want := range map[string]string{"db": b, b: b, strings.ToUpper(b): b, "00000000-0000-4000-8000-000000000000": "00000000-0000-4000-8000-000000000000"} {
		if got, err := vmname.Resolve(vm, known); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", vm, got, err, want)
		}
	}
	_, err := vmname.Resolve("web", known)
	var amb *vmname.AmbiguousError
	want := `vm "web": names 2 VMs (` + a + ` in pool lab, ` + c + ` in pool prod): give the uuid`
	if !errors.As(err, &amb) || err.Error() != want || len(amb.Matches) != 2 {
		t.Fatalf("a shared name: %v, want %s", err, want)
	}
	_, err = vmname.Resolve("Web", known) // names are exact
	var nf *vmname.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, vmname.ErrNotFound) || err.Error() != `vm: no VM named "Web" has a backup` {
		t.Fatalf("an unknown name: %v", err)
	}
	nf.Where = "is in the history"
	if err.Error() != `vm: no VM named "Web" is in the history` {
		t.Fatalf("Where: %v", err)
	}
}

func TestCheck(t *testing.T) {
	for vm, ok := range map[string]bool{"web 01": true, "é": true, "": false, "  ": false, "a\x00b": false,
		"a\nb": false, string([]byte{0xff}): false, strings.Repeat("x", 256): true, strings.Repeat("x", 257): false} {
		if err := vmname.Check(vm); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", vm, err, ok)
		}
	}
}
