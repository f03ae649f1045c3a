package restoreclient_test

import (
	"errors"
	"testing"

	"xbr/shared/catalog"
	"xbr/shared/restoreclient"
)

func TestByVM(t *testing.T) {
	const vmC = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	bs := []catalog.Backup{
		{VMUUID: vmA, VMName: "web", Pool: "lab"},
		{VMUUID: vmB, VMName: "db", Pool: "lab"},
		{VMUUID: vmA, VMName: "web"},
		{VMUUID: vmC, VMName: "web", Pool: "prod"},
		{VMUUID: vmB, VMName: "db"},
	}
	got, err := restoreclient.ByVM(bs, vmB)
	if err != nil || len(got) != 2 || got[0].VMUUID != vmB || got[1].VMUUID != vmB {
		t.Fatalf("by uuid: %v %v", got, err)
	}
	got, err = restoreclient.ByVM(bs, "db")
	if err != nil || len(got) != 2 || got[0].Pool != "lab" || got[1].Pool != "" {
		t.Fatalf("by name: %v %v", got, err)
	}
	if got, err = restoreclient.ByVM(bs, "9a8b7c6d-5e4f-4a3b-8c2d-000000000000"); err != nil || len(got) != 0 {
		t.Fatalf("a uuid without backups: %v %v", got, err)
	}

	_, err = restoreclient.ByVM(bs, "web")
	var amb *restoreclient.AmbiguousVMError
	if !errors.As(err, &amb) {
		t.Fatalf("a name two VMs share: %v", err)
	}
	want := `vm "web": names 2 VMs (` + vmA + ` in pool lab, ` + vmC + ` in pool prod): give the uuid`
	if err.Error() != want {
		t.Fatalf("ambiguity error\n got %s\nwant %s", err, want)
	}

	_, err = restoreclient.ByVM(bs, "mail")
	if !errors.Is(err, restoreclient.ErrNoSuchVM) || err.Error() != `vm: no VM named "mail" has a backup` {
		t.Fatalf("an unknown name: %v", err)
	}
}
