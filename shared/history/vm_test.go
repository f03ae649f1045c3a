package history_test

import (
	"maps"
	"testing"

	"xbr/shared/history"
)

func TestVMNamesAndFilterVM(t *testing.T) {
	const a, b = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f", "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	runs := []history.Run{
		{Task: history.Task{ID: "r1", Tasks: []*history.Task{{VMUUID: a}, {VMUUID: b, VMName: "db",
			Tasks: []*history.Task{{VMUUID: b}}}}}},
		{Task: history.Task{ID: "r2", Tasks: []*history.Task{{VMUUID: a, VMName: "web"}}}},
		{Task: history.Task{ID: "restore", VMUUID: b}},
	}
	if got, want := history.VMNames(runs), map[string]string{a: "web", b: "db"}; !maps.Equal(got, want) {
		t.Fatalf("VMNames = %v, want %v", got, want)
	}
	var ids []string
	for _, r := range history.FilterVM(runs, b) {
		ids = append(ids, r.ID)
	}
	if len(ids) != 2 || ids[0] != "r1" || ids[1] != "restore" {
		t.Fatalf("FilterVM(b) = %v, want [r1 restore]", ids)
	}
	if got := history.FilterVM(runs, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"); len(got) != 0 {
		t.Fatalf("FilterVM of an unknown uuid = %v", got)
	}
}
