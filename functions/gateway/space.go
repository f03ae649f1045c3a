package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"xbr/shared/config"
	"xbr/shared/history"
)

// spaceDays is how many days the written-bytes chart covers.
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
	Days       []dayBar // bytes committed per day, oldest first
	Total      int64    // over the days
}

// dayBar is one day of the chart: its date, bytes, and bar geometry.
type dayBar struct {
	Day    string
	Bytes  int64
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

// space is every remote's used and free space, and the bytes xbr's runs
// committed to it per day over the last spaceDays days (from the history).
func (s *Server) space(ctx context.Context, now time.Time) []remoteSpace {
	written := writtenPerDay(s.history.Runs(), now)
	var out []remoteSpace
	for _, rc := range s.env.Config.Remotes {
		rs := remoteSpace{Name: rc.Name, Type: rc.Type, Free: -1}
		used, err := s.usedBytes(ctx, rc.Name, now)
		rs.Used = used
		if err != nil {
			rs.Err = err.Error()
		}
		if rc.Type == config.RemoteDir {
			rs.Free = freeBytes(rc.Path)
		}
		rs.Days, rs.Total = bars(written[rc.Name], now)
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
	infos, err := rm.List(ctx, "")
	if err != nil {
		return -1, fmt.Errorf("remote %s: listing: %w", name, err)
	}
	var size int64
	for _, i := range infos {
		size += i.Size
	}
	s.spaceCache.mu.Lock()
	if s.spaceCache.used == nil {
		s.spaceCache.used = map[string]cachedSize{}
	}
	s.spaceCache.used[name] = cachedSize{at: now, size: size}
	s.spaceCache.mu.Unlock()
	return size, nil
}

// writtenPerDay sums the successful transfers of the runs per remote and
// UTC day.
func writtenPerDay(runs []history.Run, now time.Time) map[string]map[string]int64 {
	from := now.UTC().AddDate(0, 0, -spaceDays)
	out := map[string]map[string]int64{}
	var walk func(t *history.Task)
	walk = func(t *history.Task) {
		if t.Remote != "" && t.Status == history.StatusSuccess && t.Size > 0 && t.End.After(from) &&
			(t.Message == history.KindTransfer || t.Message == history.KindIncremental) {
			if out[t.Remote] == nil {
				out[t.Remote] = map[string]int64{}
			}
			out[t.Remote][t.End.UTC().Format(time.DateOnly)] += t.Size
		}
		for _, c := range t.Tasks {
			walk(c)
		}
	}
	for _, r := range runs {
		if r.Message != history.KindRestore {
			walk(&r.Task)
		}
	}
	return out
}

// Geometry of the written-bytes chart, in SVG units.
const (
	barsWidth  = 300
	barsHeight = 60
)

// bars lays out the last spaceDays days, today last.
func bars(perDay map[string]int64, now time.Time) ([]dayBar, int64) {
	var peak, total int64
	for _, b := range perDay {
		peak, total = max(peak, b), total+b
	}
	w := float64(barsWidth) / spaceDays
	out := make([]dayBar, 0, spaceDays)
	for i := range spaceDays {
		day := now.UTC().AddDate(0, 0, i-spaceDays+1).Format(time.DateOnly)
		b := dayBar{Day: day, Bytes: perDay[day], X: float64(i) * w, Width: w * 0.8}
		if peak > 0 {
			b.Height = float64(b.Bytes) / float64(peak) * barsHeight
		}
		b.Y = barsHeight - b.Height
		out = append(out, b)
	}
	return out, total
}
