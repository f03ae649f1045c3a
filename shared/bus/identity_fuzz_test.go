package bus_test

import (
	"os"
	"path/filepath"
	"testing"

	"xbr/shared/bus"
)

// FuzzLoadIdentity: an identity file is either refused with an error or
// yields a complete identity of the asked name.
func FuzzLoadIdentity(f *testing.F) {
	f.Add([]byte(`{"name":"export","user":"xbr-export","password":"0123456789abcdef0123456789abcdef0123456789abcdef"}`))
	f.Add([]byte(`{"name":"export","user":"","password":"short"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "export.json"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		id, err := bus.LoadIdentity(dir, "export")
		if err != nil {
			return
		}
		if id.Name != "export" || id.User == "" || len(id.Password) < 32 {
			t.Fatalf("accepted an incomplete identity: %+v", id)
		}
	})
}

func TestIdentitiesAreKeptAndPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "identities")
	first, err := bus.EnsureIdentities(dir, []string{"export", "client"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := bus.EnsureIdentities(dir, []string{"export", "client"})
	if err != nil {
		t.Fatal(err)
	}
	if first["export"] != again["export"] || first["export"].Password == first["client"].Password {
		t.Errorf("identities not kept or not distinct: %+v %+v", first, again)
	}
	fi, err := os.Stat(filepath.Join(dir, "export.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("identity file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}
