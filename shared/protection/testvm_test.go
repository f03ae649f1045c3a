package protection_test

import (
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/protection"
	"xbr/shared/xapi"
)

// A health check's throw-away test VM (tagged xbr:healthcheck, restored by
// the check's own restore) is listed by the overview as a VM to protect:
// every check adds an "unprotected" (or "new"/"late") row for a VM that is
// destroyed minutes later, and a job selecting the pool's VMs selects it.
func TestHealthCheckTestVMIsNotListed(t *testing.T) {
	test := xapi.VM{UUID: vmC, NameLabel: "xbr health check of web", Tags: []string{"xbr:healthcheck"},
		OtherConfig: map[string]string{"xbr:healthcheck:request": "hc-1"}}
	job := config.Job{Name: "all", Mode: "full", Pools: []string{"lab"}, Remotes: []string{"nfs"}, RPO: 26 * time.Hour}
	for name, jobs := range map[string][]config.Job{"no job": nil, "a job of every VM": {job}} {
		in := protection.Input{Pools: pool(xapi.VM{UUID: vmA, NameLabel: "web"}, test), Jobs: jobs, Now: t0}
		for _, v := range protection.Compute(in) {
			if v.UUID == vmC {
				t.Errorf("%s: the health check's test VM is listed: %s (%s)", name, v.State, v.Reason)
			}
		}
	}
}
