package gateway

import (
	"slices"
	"time"

	"xbr/shared/history"
)

// The rate of a sample is the rate over the interval since the previous
// sample of the same VM: (bytes - previous bytes) / (time - previous time).
// Export workers report the mean rate since the export started; the
// interval rate shows a slowdown when it happens rather than smoothed out.
// The first sample of a VM (or one after a retry started over from zero
// bytes) uses the reported rate, which is then exactly its interval's.

// vmLines draws one line per VM of a run, in the order the VMs first
// reported progress, time measured from the run's start.
func vmLines(run history.Run, pts []history.RatePoint) []line {
	origin := rateOrigin(run, pts)
	groups, order := byVM(pts)
	names := map[string]string{}
	for _, t := range run.Tasks {
		if t.Message == history.KindVM && t.VMName != "" {
			names[t.VMUUID] = t.VMName
		}
	}
	var out []line
	for _, vm := range order {
		name := names[vm]
		switch {
		case name == "" && vm == "":
			name = run.Message
		case name == "":
			name = "VM " + vm
		}
		var samples []sample
		for _, sp := range spans(groups[vm]) {
			samples = append(samples, sample{T: since(origin, sp.to), Rate: sp.rate, Bytes: sp.bytes, At: sp.to})
		}
		out = append(out, line{Name: name, Samples: samples})
	}
	return out
}

// aggregate is a run's total rate: at each sample time, the sum of the
// interval rates of the VMs transferring at that moment.
func aggregate(run history.Run, pts []history.RatePoint) []sample {
	origin := rateOrigin(run, pts)
	groups, order := byVM(pts)
	perVM := make([][]span, len(order))
	for i, vm := range order {
		perVM[i] = spans(groups[vm])
	}
	var times []time.Time
	for _, p := range pts {
		times = append(times, p.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.Equal(b) })
	done := make([]int, len(order)) // per VM: how many spans ended at or before t
	var out []sample
	for _, t := range times {
		s := sample{T: since(origin, t), At: t}
		for i, sps := range perVM {
			for done[i] < len(sps) && !sps[done[i]].to.After(t) {
				done[i]++
			}
			s.Rate += rateAt(sps, done[i], t)
			if done[i] > 0 {
				s.Bytes += sps[done[i]-1].bytes
			}
		}
		out = append(out, s)
	}
	return out
}

// rateAt is the rate of the span covering t (from < t <= to), given that
// the first done spans ended at or before t; 0 between spans.
func rateAt(sps []span, done int, t time.Time) float64 {
	if done > 0 && sps[done-1].to.Equal(t) {
		return sps[done-1].rate
	}
	if done < len(sps) && sps[done].from.Before(t) {
		return sps[done].rate
	}
	return 0
}

// span is the interval a sample covers and the rate over it.
type span struct {
	from, to time.Time
	rate     float64
	bytes    int64
}

// spans turns one VM's samples (oldest first) into intervals.
func spans(pts []history.RatePoint) []span {
	out := make([]span, 0, len(pts))
	for i, p := range pts {
		sp := span{to: p.Time, rate: float64(p.BytesPerSecond), bytes: p.Bytes}
		if p.BytesPerSecond > 0 {
			sp.from = p.Time.Add(-time.Duration(float64(p.Bytes) / float64(p.BytesPerSecond) * float64(time.Second)))
		} else {
			sp.from = p.Time
		}
		if i > 0 {
			prev := pts[i-1]
			dt, db := p.Time.Sub(prev.Time).Seconds(), p.Bytes-prev.Bytes
			if dt > 0 && db >= 0 {
				sp.from, sp.rate = prev.Time, float64(db)/dt
			}
		}
		out = append(out, sp)
	}
	return out
}

func byVM(pts []history.RatePoint) (map[string][]history.RatePoint, []string) {
	groups := map[string][]history.RatePoint{}
	var order []string
	for _, p := range pts {
		if _, ok := groups[p.VMUUID]; !ok {
			order = append(order, p.VMUUID)
		}
		groups[p.VMUUID] = append(groups[p.VMUUID], p)
	}
	return groups, order
}

// rateOrigin is time zero of a run's chart: its start, or its first sample.
func rateOrigin(run history.Run, pts []history.RatePoint) time.Time {
	if !run.Start.IsZero() || len(pts) == 0 {
		return run.Start
	}
	return pts[0].Time
}

func since(origin, t time.Time) float64 { return max(0, t.Sub(origin).Seconds()) }
