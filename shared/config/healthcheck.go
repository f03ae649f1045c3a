package config

import (
	"fmt"
	"strings"
	"time"
)

// DefaultHealthTimeout is how long a health check waits for the guest when
// health_check.timeout is unset (Xen Orchestra's default is 10 minutes).
const DefaultHealthTimeout = 10 * time.Minute

// HealthCheck is a job's or schedule's health_check: after each backup or
// replication, boot the new backup as a test VM on SR (by UUID or name,
// on the VM's pool; for a replicate job, the target pool) and wait for its
// guest, for the VMs that carry one of Tags (every VM if Tags is empty),
// VMs tagged xo:no-health-check excepted.
type HealthCheck struct {
	SR      string        `yaml:"sr"`
	Tags    []string      `yaml:"tags"`
	Timeout time.Duration `yaml:"timeout"`
	// Skip turns the job's health check off for one schedule.
	Skip bool `yaml:"skip"`
}

// HealthCheckFor is the health check of the job's runs of schedule: the
// schedule's own, else the job's; nil when there is none (or skip).
// Timeout is filled with DefaultHealthTimeout when unset.
func (j Job) HealthCheckFor(schedule string) *HealthCheck {
	hc := j.HealthCheck
	for _, s := range j.Schedules {
		if s.Name == schedule && s.HealthCheck != nil {
			hc = s.HealthCheck
		}
	}
	if hc == nil || hc.Skip {
		return nil
	}
	out := *hc
	if out.Timeout == 0 {
		out.Timeout = DefaultHealthTimeout
	}
	return &out
}

// healthModes are the modes whose jobs make something a health check can boot.
var healthModes = []string{ModeFull, ModeIncremental, ModeReplicate}

// checkHealth checks a job's or schedule's health_check (path ends in
// ".health_check").
func checkHealth(p *problems, path, mode string, hc *HealthCheck) {
	if hc == nil {
		return
	}
	if validMode(mode) && !contains(healthModes, mode) {
		p.add(path, "only for %s jobs (a %s job makes nothing to boot)", strings.Join(healthModes, ", "), mode)
		return
	}
	if hc.Skip {
		return
	}
	if strings.TrimSpace(hc.SR) == "" {
		p.add(path+".sr", "missing (the SR, by UUID or name, the test VM's disks go to)")
	}
	for i, t := range hc.Tags {
		if strings.TrimSpace(t) == "" {
			p.add(fmt.Sprintf("%s.tags[%d]", path, i), "empty tag")
		}
	}
	if hc.Timeout < 0 {
		p.addValue(path+".timeout", hc.Timeout.String(), "must not be negative")
	}
}
