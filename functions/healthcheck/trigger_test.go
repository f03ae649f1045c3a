package healthcheck

import (
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
)

func TestSkip(t *testing.T) {
	tests := []struct {
		name       string
		tags, want []string
		skipped    bool
	}{
		{"no tags wanted", nil, nil, false},
		{"opted out", []string{"prod", "xo:no-health-check"}, nil, true},
		{"opted out with a reason", []string{"xo:no-health-check=no guest tools"}, []string{"prod"}, true},
		{"carries a wanted tag", []string{"web", "prod"}, []string{"prod", "db"}, false},
		{"carries none", []string{"web"}, []string{"prod"}, true},
		{"a prefix is not the tag", []string{"xo:no-health-checks"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := skip(tt.tags, tt.want); (got != "") != tt.skipped {
				t.Fatalf("skip(%v, %v) = %q, want skipped %v", tt.tags, tt.want, got, tt.skipped)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	hc := &config.HealthCheck{SR: "fast", Timeout: 2 * time.Minute}
	d := done{runID: "r1", job: "nightly", schedule: "daily", vmUUID: "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f",
		pool: "lab", checkPool: "lab", backupID: "nfs/6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f/20261129T010000Z"}
	req := Request(d, hc, []string{"prod"})
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	if req.Method != events.HealthMethodGuestMetrics || req.TimeoutMS != 120000 || req.SR != "fast" || req.RequestID != RequestID(d.backupID) {
		t.Fatalf("request = %+v", req)
	}
	if again := Request(d, hc, nil); again.RequestID != req.RequestID {
		t.Fatal("the request id is not derived from the backup id")
	}
	if x := Request(d, hc, []string{TagXenStore}); x.Method != events.HealthMethodXenStore {
		t.Fatalf("a VM tagged %s: method %s", TagXenStore, x.Method)
	}
	rep := done{job: "dr", schedule: "hourly", vmUUID: d.vmUUID, pool: "lab", checkPool: "standby",
		copyUUID: "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d", backupID: ReplicaID("a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d")}
	if r := Request(rep, hc, nil); r.Pool != "standby" || r.CopyUUID == "" || r.Validate() != nil {
		t.Fatalf("replica request = %+v (%v)", r, r.Validate())
	}
}
