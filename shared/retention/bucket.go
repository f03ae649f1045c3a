package retention

import (
	"fmt"
	"time"
)

// kind is one long-term bucket kind.
type kind struct {
	name string // "daily", …
	unit string // "days", … for reasons
	key  func(local time.Time) string
}

var kinds = [...]kind{
	{"daily", "days", func(t time.Time) string { return t.Format("2006-01-02") }},
	{"weekly", "weeks", func(t time.Time) string {
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	}},
	{"monthly", "months", func(t time.Time) string { return t.Format("2006-01") }},
	{"yearly", "years", func(t time.Time) string { return t.Format("2006") }},
}

func (p Policy) counts() [len(kinds)]int {
	return [len(kinds)]int{p.Daily, p.Weekly, p.Monthly, p.Yearly}
}

// BucketKey returns the key of t's bucket of the given kind ("daily", "weekly", "monthly",
// "yearly") in loc (nil: UTC), e.g. "2026-03-29", "2026-W13", "2026-03", "2026".
func BucketKey(kindName string, t time.Time, loc *time.Location) (string, error) {
	for _, k := range kinds {
		if k.name == kindName {
			return k.key(t.In(orUTC(loc))), nil
		}
	}
	return "", fmt.Errorf("retention: bucket kind %q: want daily, weekly, monthly or yearly", kindName)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// applyBuckets marks the representative (the oldest item) of each of the N most recent
// non-empty buckets of every enabled kind. sorted is newest first, so the items of one
// bucket are contiguous (local calendar keys never go back as time goes back) and the
// representative is the last item of its run.
func applyBuckets(sorted []Item, p Policy, w *why) {
	counts := p.counts()
	if counts == [len(kinds)]int{} {
		return
	}
	loc := orUTC(p.Location)
	local := make([]time.Time, len(sorted))
	for i, it := range sorted {
		local[i] = it.Time.In(loc)
	}
	keys := make([]string, len(sorted))
	for ki, k := range kinds {
		if counts[ki] == 0 {
			continue
		}
		for i := range local {
			keys[i] = k.key(local[i])
		}
		applyKind(sorted, keys, k, counts[ki], w)
	}
}

func applyKind(sorted []Item, keys []string, k kind, n int, w *why) {
	buckets := 0
	for start := 0; start < len(keys); {
		key := keys[start]
		end := start + 1
		for end < len(keys) && keys[end] == key {
			end++
		}
		buckets++
		rep := end - 1
		// One message per bucket, shared by its items.
		if buckets <= n {
			w.keep(rep, k.name+" "+key)
			msg := k.name + " " + key + " is kept by its oldest backup " + sorted[rep].ID
			for i := start; i < rep; i++ {
				w.drop(i, msg)
			}
		} else {
			msg := fmt.Sprintf("%s %s is older than the %d most recent %s", k.name, key, n, k.unit)
			for i := start; i < end; i++ {
				w.drop(i, msg)
			}
		}
		start = end
	}
}
