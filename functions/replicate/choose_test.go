package replicate_test

import (
	"errors"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/vmname"
)

// A name the copies of two source VMs carry is refused, listing them, as
// every door refuses it; a uuid (the source's or the copy's) still picks.
func TestChooseRefusesANameTwoVMsShare(t *testing.T) {
	const a, b = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	t0 := time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)
	copyOf := func(uuid, vm, name string, at time.Time) replicate.Copy {
		return replicate.Copy{CopyRecord: events.CopyRecord{UUID: uuid, VMUUID: vm, VMName: name, SR: "sr", Datetime: at, StartBlocked: true}}
	}
	copies := []replicate.Copy{
		copyOf("1c000000-0000-4000-8000-00000000000a", a, "web", t0),
		copyOf("1c000000-0000-4000-8000-00000000000b", b, "web", t0.Add(time.Hour)),
		copyOf("1c000000-0000-4000-8000-00000000000c", b, "db", t0),
	}
	_, err := replicate.Choose(copies, "web", replicate.Latest)
	var amb *vmname.AmbiguousError
	if want := `vm "web": names 2 VMs (` + a + `, ` + b + `): give the uuid`; !errors.As(err, &amb) || err.Error() != want {
		t.Fatalf("a shared name: %v, want %s", err, want)
	}
	if c, err := replicate.Choose(copies, a, replicate.Latest); err != nil || c.VMUUID != a {
		t.Fatalf("by the source's uuid: %+v %v", c, err)
	}
	if c, err := replicate.Choose(copies, "1c000000-0000-4000-8000-00000000000b", replicate.Latest); err != nil || c.VMUUID != b {
		t.Fatalf("by the copy's uuid: %+v %v", c, err)
	}
	if _, err := replicate.Choose(copies, "mail", replicate.Latest); !errors.Is(err, replicate.ErrNoCopy) {
		t.Fatalf("an unknown name: %v, want ErrNoCopy", err)
	}
}
