package xapisim_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"xbr/shared/xapi/xapisim"
)

// TestStatsCountsCalls: GET /sim/stats counts API calls per wire method
// name, failed and Async calls included, on both transports.
func TestStatsCountsCalls(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-01")
	must(t, url, "VM.get_record", sess, vm.Ref)
	must(t, url, "VM.get_record", sess, vm.Ref)
	xmlCall(t, url, "VM.get_record", sess, "OpaqueRef:gone")
	xmlCall(t, url, "Async.VM.get_record", sess, vm.Ref) // no async mode: fails, still counted
	jsonCall(t, url, `{"jsonrpc":"2.0","id":1,"method":"VM.get_snapshots","params":["`+sess+`","`+vm.Ref+`"]}`)
	xmlCall(t, url, "VM.get_all_records", sess)
	resp, err := http.Get(url + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got xapisim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/stats: HTTP %d, %v", resp.StatusCode, err)
	}
	want := map[string]int{"session.login_with_password": 1, "VM.get_record": 3,
		"Async.VM.get_record": 1, "VM.get_snapshots": 1, "VM.get_all_records": 1}
	for m, n := range want {
		if got.Calls[m] != n {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", m, got.Calls[m], n, got.Calls)
		}
	}
	if got.Requests["/"] < 6 {
		t.Errorf("requests[/] = %d, want >= 6", got.Requests["/"])
	}
	if c := s.Calls(); c["VM.get_record"] != 3 {
		t.Errorf("Calls() = %v", c)
	}
}
