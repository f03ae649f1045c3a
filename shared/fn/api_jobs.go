package fn

import (
	"context"

	"xbr/events"
)

// listJobs answers the jobs query: the configured jobs and when each
// enabled schedule fires next.
func listJobs(_ context.Context, env *Env, _ events.NoRequest) ([]events.JobInfo, error) {
	now := env.Now()
	out := make([]events.JobInfo, 0, len(env.Config.Jobs))
	for _, j := range env.Config.Jobs {
		ji := events.JobInfo{Name: j.Name, Mode: j.Mode, Pools: j.Pools, Remotes: j.Remotes, Codec: j.Compression}
		if j.XAPICompression != "" && j.XAPICompression != "none" {
			ji.Codec = j.XAPICompression + " (by XAPI)"
		}
		for _, s := range j.Schedules {
			si := events.ScheduleInfo{Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, Enabled: s.Enabled,
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
