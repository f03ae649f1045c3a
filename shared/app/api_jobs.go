package app

import (
	"context"
	"encoding/json"
	"time"
)

// JobInfo describes a configured job for `xbr jobs ls` and `xbr run`.
type JobInfo struct {
	Name      string         `json:"name"`
	Mode      string         `json:"mode"`
	Pools     []string       `json:"pools"`
	Remotes   []string       `json:"remotes,omitempty"`
	Codec     string         `json:"codec"`
	Schedules []ScheduleInfo `json:"schedules"`
}

// ScheduleInfo describes one schedule of a job.
type ScheduleInfo struct {
	Name      string    `json:"name"`
	Cron      string    `json:"cron"`
	Timezone  string    `json:"timezone"`
	Enabled   bool      `json:"enabled"`
	Retention int       `json:"retention,omitempty"`
	Next      time.Time `json:"next,omitzero"`
}

func listJobs(_ context.Context, env *Env, _ json.RawMessage) (any, error) {
	now := env.Now()
	out := make([]JobInfo, 0, len(env.Config.Jobs))
	for _, j := range env.Config.Jobs {
		ji := JobInfo{Name: j.Name, Mode: j.Mode, Pools: j.Pools, Remotes: j.Remotes, Codec: j.Compression}
		if j.XAPICompression != "" && j.XAPICompression != "none" {
			ji.Codec = j.XAPICompression + " (by XAPI)"
		}
		for _, s := range j.Schedules {
			si := ScheduleInfo{Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, Enabled: s.Enabled,
				Retention: s.Retention}
			if s.Enabled {
				si.Next = s.Spec.Next(now, s.Location)
			}
			ji.Schedules = append(ji.Schedules, si)
		}
		out = append(out, ji)
	}
	return out, nil
}
