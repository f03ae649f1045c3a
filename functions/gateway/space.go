package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"xbr/shared/config"
	"xbr/shared/history"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// spaceDays is how many days the used-space chart covers.
const spaceDays = 30

// spaceTTL is how long a remote's listed size is reused: listing a large
// remote is not free, and the landing page is opened often.
const spaceTTL = 5 * time.Minute

// remoteSpace is one remote's line on the Protection page.
type remoteSpace struct {
	Name, Type string
	Used       int64 // bytes listed on the remote (-1: the listing failed)
	Free       int64 // dir: statfs; -1 for S3 (no free figure) or unknown
	Err        string
	Days       []dayBar // used bytes at the end of each day, oldest first
	Peak       int64    // the most used over the days
}

// dayBar is one day of the chart: its date, bytes, and bar geometry.
type dayBar struct {
	Day    string
	Bytes  int64
	Known  bool // a measurement was made on or before Day
	X, Y   float64
	Width  float64
	Height float64
}

// spaceCache holds each remote's listed size for spaceTTL.
type spaceCache struct {
	mu   sync.Mutex
	used map[string]cachedSize
}

type cachedSize struct {
	at   time.Time
	size int64
}

// space is every remote's used and free space now, and its used space over
// the last spaceDays days (from the xbr.remote.usage events).
func (s *Server) space(ctx context.Context, now time.Time) []remoteSpace {
	var out []remoteSpace
	for _, rc := range s.env.Config.Remotes {
		rs := remoteSpace{Name: rc.Name, Type: rc.Type, Free: -1}
		used, err := s.usedBytes(ctx, rc.Name, now)
		rs.Used = used
		if err != nil {
			rs.Err = err.Error()
		}
		if rc.Type == config.RemoteDir {
			rs.Free = dir.FreeBytes(rc.Path)
		}
		rs.Days, rs.Peak = bars(usedPerDay(s.history.Usage(rc.Name), now), now)
		out = append(out, rs)
	}
	return out
}

func (s *Server) usedBytes(ctx context.Context, name string, now time.Time) (int64, error) {
	s.spaceCache.mu.Lock()
	c, ok := s.spaceCache.used[name]
	s.spaceCache.mu.Unlock()
	if ok && now.Sub(c.at) < spaceTTL {
		return c.size, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rm, err := s.env.Remotes.Get(ctx, name)
	if err != nil {
		return -1, fmt.Errorf("remote %s: %w", name, err)
	}
	var size int64 // a repository's chunks one at a time, not all at once
	if err := remote.Each(ctx, rm, "", func(i remote.Info) { size += i.Size }); err != nil {
		return -1, fmt.Errorf("remote %s: listing: %w", name, err)
	}
	s.spaceCache.mu.Lock()
	if s.spaceCache.used == nil {
		s.spaceCache.used = map[string]cachedSize{}
	}
	s.spaceCache.used[name] = cachedSize{at: now, size: size}
	s.spaceCache.mu.Unlock()
	return size, nil
}

// usedPerDay is the remote's used space at the end of each UTC day, from
// its xbr.remote.usage events: the newest measurement up to that day, carried
// forward over the days without one.
func usedPerDay(pts []history.UsagePoint, now time.Time) map[string]int64 {
	out := map[string]int64{}
	var level int64
	known, next := false, 0
	for i := range spaceDays {
		end := now.UTC().AddDate(0, 0, i-spaceDays+1)
		day := end.Format(time.DateOnly)
		for ; next < len(pts) && pts[next].At.UTC().Format(time.DateOnly) <= day; next++ {
			level, known = pts[next].UsedBytes, true
		}
		if known {
			out[day] = level
		}
	}
	return out
}

// Geometry of the used-space chart, in SVG units.
const (
	barsWidth  = 300
	barsHeight = 60
)

// bars lays out the last spaceDays days, today last, and the peak.
func bars(perDay map[string]int64, now time.Time) ([]dayBar, int64) {
	var peak int64
	for _, b := range perDay {
		peak = max(peak, b)
	}
	w := float64(barsWidth) / spaceDays
	out := make([]dayBar, 0, spaceDays)
	for i := range spaceDays {
		day := now.UTC().AddDate(0, 0, i-spaceDays+1).Format(time.DateOnly)
		used, known := perDay[day]
		b := dayBar{Day: day, Bytes: used, Known: known, X: float64(i) * w, Width: w * 0.8}
		if peak > 0 {
			b.Height = float64(b.Bytes) / float64(peak) * barsHeight
		}
		b.Y = barsHeight - b.Height
		out = append(out, b)
	}
	return out, peak
}
