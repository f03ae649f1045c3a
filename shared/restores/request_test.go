package restores_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/restores"
)

const goodID = "nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231012T101112Z"

func TestNewRequest(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    restores.Params
		want string // "" = valid, else a fragment of the error
	}{
		{"valid", restores.Params{BackupID: goodID, Pool: "lab"}, ""},
		{"valid with everything", restores.Params{BackupID: goodID, Pool: "lab", SR: "Local storage", Name: "copy", Start: true, RequestedBy: "cli:me@host"}, ""},
		{"dot-dot", restores.Params{BackupID: "nfs:../../etc/passwd", Pool: "lab"}, `contains ".."`},
		{"absolute", restores.Params{BackupID: "/etc/passwd", Pool: "lab"}, "absolute path"},
		{"escaped", restores.Params{BackupID: "nfs:%2e%2e/x", Pool: "lab"}, "'%'"},
		{"NUL", restores.Params{BackupID: "nfs:0f5c\x00", Pool: "lab"}, "byte 0x00"},
		{"upper-case uuid", restores.Params{BackupID: strings.ToUpper(goodID[:40]) + goodID[40:], Pool: "lab"}, "vm uuid"},
		{"no pool", restores.Params{BackupID: goodID}, "pool: is required"},
		{"control in name", restores.Params{BackupID: goodID, Pool: "lab", Name: "a\nb"}, "name"},
		{"empty", restores.Params{Pool: "lab"}, "backup id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := restores.NewRequest(tc.p, now)
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
	base := restores.Params{BackupID: goodID, Pool: "lab"}
	keyed := base
	keyed.Key = "delivery-42"
	started := base
	started.Start = true
	if restores.RequestID(base, t0) != restores.RequestID(base, t0) {
		t.Fatal("same params and time give different ids")
	}
	if restores.RequestID(base, t0) == restores.RequestID(base, t0.Add(time.Nanosecond)) {
		t.Fatal("without a key, a later request has the same id")
	}
	if restores.RequestID(keyed, t0) != restores.RequestID(keyed, t0.Add(time.Hour)) {
		t.Fatal("with a key, the id depends on the time")
	}
	if restores.RequestID(base, t0) == restores.RequestID(started, t0) {
		t.Fatal("different parameters give the same id")
	}
}

func FuzzNewRequest(f *testing.F) {
	for _, s := range []string{goodID, "nfs:../x", "a:b/c", "", "nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20231312T101112Z"} {
		f.Add(s, "lab", "")
	}
	f.Fuzz(func(t *testing.T, id, pool, name string) {
		req, err := restores.NewRequest(restores.Params{BackupID: id, Pool: pool, Name: name}, time.Unix(0, 0))
		if err != nil {
			return
		}
		if strings.Contains(req.BackupID, "..") || strings.HasPrefix(req.BackupID, "/") || req.Validate() != nil {
			t.Fatalf("accepted %q", id)
		}
	})
}
