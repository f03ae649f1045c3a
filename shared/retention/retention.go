package retention

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Item is one backup or snapshot to decide on.
type Item struct {
	// ID identifies the item; it must be unique and non-empty. It keys Decision.Reasons.
	ID string
	// Time is when the backup was taken (for a backup, its timestamp).
	Time time.Time
}

// Policy says what to keep. The zero value keeps everything.
type Policy struct {
	// Depth keeps the Depth newest items (the one just written counts).
	Depth int
	// Daily, Weekly, Monthly and Yearly keep the oldest item of each of the N most recent
	// non-empty days, ISO weeks, months and years. 0 disables a bucket kind.
	Daily, Weekly, Monthly, Yearly int
	// Location is the schedule's IANA time zone, in which buckets are calendar periods.
	// nil means UTC.
	Location *time.Location
}

// Validate reports a negative count, naming the field and its value.
func (p Policy) Validate() error {
	for _, f := range []struct {
		name string
		n    int
	}{{"depth", p.Depth}, {"daily", p.Daily}, {"weekly", p.Weekly}, {"monthly", p.Monthly}, {"yearly", p.Yearly}} {
		if f.n < 0 {
			return fmt.Errorf("retention policy: %s %d: must not be negative", f.name, f.n)
		}
	}
	return nil
}

// keepsAll reports whether the policy is "no retention".
func (p Policy) keepsAll() bool {
	return p.Depth == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0
}

// Decision is the outcome of Decide.
type Decision struct {
	// Keep and Remove partition the input, each newest first.
	Keep   []Item
	Remove []Item
	// Reasons gives, for every input ID, why it is kept (every rule that keeps it) or why
	// it is removed (outside depth, and what happened to each of its buckets).
	Reasons map[string][]string
}

// ErrDuplicateID is returned when two items share an ID.
var ErrDuplicateID = errors.New("duplicate id")

// Decide applies p to items. items is not modified. It fails only on an invalid policy or on
// an empty or duplicate ID.
func Decide(items []Item, p Policy) (Decision, error) {
	if err := p.Validate(); err != nil {
		return Decision{}, err
	}
	sorted, err := newestFirst(items)
	if err != nil {
		return Decision{}, err
	}
	w := newWhy(len(sorted))
	switch {
	case p.keepsAll():
		for i := range sorted {
			w.keep(i, "keep all (depth 0, no long-term buckets)")
		}
	default:
		applyDepth(sorted, p.Depth, w)
		applyBuckets(sorted, p, w)
		if len(sorted) > 0 && len(w.kept[0]) == 0 {
			w.keep(0, "newest")
		}
	}
	d := Decision{Reasons: make(map[string][]string, len(sorted))}
	for i, it := range sorted {
		if len(w.kept[i]) > 0 {
			d.Keep = append(d.Keep, it)
			d.Reasons[it.ID] = w.kept[i]
		} else {
			d.Remove = append(d.Remove, it)
			d.Reasons[it.ID] = w.dropped[i]
		}
	}
	return d, nil
}

// why collects, per sorted index, the reasons to keep and the reasons not to.
type why struct {
	kept, dropped [][]string
}

func newWhy(n int) *why {
	return &why{kept: make([][]string, n), dropped: make([][]string, n)}
}

func (w *why) keep(i int, reason string) { w.kept[i] = append(w.kept[i], reason) }
func (w *why) drop(i int, reason string) { w.dropped[i] = append(w.dropped[i], reason) }

// newestFirst returns a sorted copy of items: by Time, then ID, newest first.
func newestFirst(items []Item) ([]Item, error) {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b Item) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	seen := make(map[string]struct{}, len(sorted))
	for _, it := range sorted {
		if it.ID == "" {
			return nil, fmt.Errorf("retention: item at %s: empty id", it.Time.UTC().Format(time.RFC3339))
		}
		if _, dup := seen[it.ID]; dup {
			return nil, fmt.Errorf("retention: %w %q", ErrDuplicateID, it.ID)
		}
		seen[it.ID] = struct{}{}
	}
	return sorted, nil
}

func applyDepth(sorted []Item, depth int, w *why) {
	outside := fmt.Sprintf("outside depth %d", depth)
	for i := range sorted {
		if i < depth {
			w.keep(i, fmt.Sprintf("depth %d/%d", i+1, depth))
		} else {
			w.drop(i, outside)
		}
	}
}
