package restoreclient_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/restoreclient"
)

const goodID = "nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z"

func TestNewRequest(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    restoreclient.Params
		want string // "" = valid, else a fragment of the error
	}{
		{"valid", restoreclient.Params{BackupID: goodID, Pool: "lab"}, ""},
		{"valid with everything", restoreclient.Params{BackupID: goodID, Pool: "lab", SR: "Local storage", Name: "copy", Start: true, RequestedBy: "cli:me@host"}, ""},
		{"dot-dot", restoreclient.Params{BackupID: "nfs:../../etc/passwd", Pool: "lab"}, `contains ".."`},
		{"absolute", restoreclient.Params{BackupID: "/etc/passwd", Pool: "lab"}, "absolute path"},
		{"escaped", restoreclient.Params{BackupID: "nfs:%2e%2e/x", Pool: "lab"}, "'%'"},
		{"NUL", restoreclient.Params{BackupID: "nfs:0f5c\x00", Pool: "lab"}, "byte 0x00"},
		{"upper-case uuid", restoreclient.Params{BackupID: strings.ToUpper(goodID[:40]) + goodID[40:], Pool: "lab"}, "vm uuid"},
		{"no pool", restoreclient.Params{BackupID: goodID}, "pool: is required"},
		{"control in name", restoreclient.Params{BackupID: goodID, Pool: "lab", Name: "a\nb"}, "name"},
		{"empty", restoreclient.Params{Pool: "lab"}, "backup id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := restoreclient.NewRequest(tc.p, now)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if req.BackupID != tc.p.BackupID || req.Pool != tc.p.Pool || req.Start != tc.p.Start || req.RequestID == "" {
					t.Fatalf("request %+v from %+v", req, tc.p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRequestIDIsDerived(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	base := restoreclient.Params{BackupID: goodID, Pool: "lab"}
	keyed := base
	keyed.Key = "delivery-42"
	started := base
	started.Start = true
	if restoreclient.RequestID(base, t0) != restoreclient.RequestID(base, t0) {
		t.Fatal("same params and time give different ids")
	}
	if restoreclient.RequestID(base, t0) == restoreclient.RequestID(base, t0.Add(time.Nanosecond)) {
		t.Fatal("without a key, a later request has the same id")
	}
	if restoreclient.RequestID(keyed, t0) != restoreclient.RequestID(keyed, t0.Add(time.Hour)) {
		t.Fatal("with a key, the id depends on the time")
	}
	if restoreclient.RequestID(base, t0) == restoreclient.RequestID(started, t0) {
		t.Fatal("different parameters give the same id")
	}
}

func FuzzNewRequest(f *testing.F) {
	for _, s := range []string{goodID, "nfs:../x", "a:b/c", "", "nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231312T101112Z"} {
		f.Add(s, "lab", "")
	}
	f.Fuzz(func(t *testing.T, id, pool, name string) {
		req, err := restoreclient.NewRequest(restoreclient.Params{BackupID: id, Pool: pool, Name: name}, time.Unix(0, 0))
		if err != nil {
			return
		}
		if strings.Contains(req.BackupID, "..") || strings.HasPrefix(req.BackupID, "/") || req.Validate() != nil {
			t.Fatalf("accepted %q", id)
		}
	})
}
