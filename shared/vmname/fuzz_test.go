package vmname_test

import (
	"errors"
	"strings"
	"testing"

	"xbr/shared/vmname"
)

// FuzzResolve: whatever a client sends, Resolve answers a uuid it was given
// or knows, or one of its two errors; Check never panics.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"web", "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", "0F5C6F7E-3A4B-4C2D-9E8F-1A2B3C4D5E6F", "", "a\x00b", "web 01"} {
		f.Add(s)
	}
	known := []vmname.Known{{UUID: "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", Name: "web"},
		{UUID: "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f", Name: "web", Pool: "prod"}, {UUID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Name: "db"}}
	f.Fuzz(func(t *testing.T, vm string) {
		_ = vmname.Check(vm)
		got, err := vmname.Resolve(vm, known)
		var amb *vmname.AmbiguousError
		switch {
		case err == nil && vmname.IsUUID(vm):
			if got != strings.ToLower(vm) {
				t.Fatalf("Resolve(%q) = %q", vm, got)
			}
		case err == nil:
			if got != "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" || vm != "db" {
				t.Fatalf("Resolve(%q) = %q", vm, got)
			}
		case errors.As(err, &amb):
			if vm != "web" || len(amb.Matches) != 2 {
				t.Fatalf("Resolve(%q): %v", vm, err)
			}
		case !errors.Is(err, vmname.ErrNotFound):
			t.Fatalf("Resolve(%q): unexpected error %v", vm, err)
		}
	})
}
