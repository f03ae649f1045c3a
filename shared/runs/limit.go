package runs

import (
	"sync"

	"golang.org/x/time/rate"
)

// Limiters hold one token bucket per run, shared by the run's transfers in
// this process while any of them runs: a job's rate_limit caps the bytes
// of the whole run, not of each VM.
type Limiters struct {
	mu   sync.Mutex
	runs map[string]*sharedLimiter
}

type sharedLimiter struct {
	lim   *rate.Limiter
	users int
}

// NewLimiters returns an empty set of run limiters.
func NewLimiters() *Limiters { return &Limiters{runs: map[string]*sharedLimiter{}} }

// Take returns run's token bucket for bytesPerSecond (nil when 0:
// unlimited) and its release, to call once the transfer is done; the bucket
// goes when its last user releases it.
func (l *Limiters) Take(run string, bytesPerSecond int64) (*rate.Limiter, func()) {
	if bytesPerSecond <= 0 {
		return nil, func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.runs[run]
	if !ok {
		burst := int(min(max(bytesPerSecond/4, 32<<10), 1<<20))
		s = &sharedLimiter{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), burst)}
		l.runs[run] = s
	}
	s.users++
	var once sync.Once
	return s.lim, func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if s.users--; s.users <= 0 {
				delete(l.runs, run)
			}
		})
	}
}

// Len is the number of runs holding a bucket (tests: none left behind).
func (l *Limiters) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.runs)
}
