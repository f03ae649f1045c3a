package gateway

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/protection"
	"xbr/shared/schedule"
)

// stateCount is one state's count at the top of the Protection page, a
// link that filters the table.
type stateCount struct {
	State   string
	N       int
	URL     string
	Current bool
}

// protectionRow is one VM of the table.
type protectionRow struct {
	events.ProtectionVM
	Age        string
	Copies     []string
	BackupsURL string // the restore wizard at this VM's backups ("" when none)
	HistoryURL string
}

// protectionView is the Protection page.
type protectionView struct {
	Counts   []stateCount
	Total    int
	Rows     []protectionRow
	Filter   string
	Sort     string
	SortURLs map[string]string
	Err      string
	Timeline timeline
	Space    []remoteSpace
}

// protectionPage is GET / (the landing view): every VM's protection, worst
// first or oldest copy first (?sort=age), optionally one state (?state=late).
func (s *Server) protectionPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, sortBy := q.Get("state"), cmp.Or(q.Get("sort"), "state")
	if state != "" && !slices.Contains(events.ProtectionStates(), state) {
		s.errorPage(w, r, &FieldError{Field: "state", Value: state, Problem: "is not a protection state"})
		return
	}
	if sortBy != "state" && sortBy != "age" {
		s.errorPage(w, r, &FieldError{Field: "sort", Value: sortBy, Problem: "is neither state nor age"})
		return
	}
	v := protectionView{Filter: state, Sort: sortBy, Timeline: s.timeline(s.now()), Space: s.space(r.Context(), s.now())}
	vms, err := s.protection(r.Context())
	if err != nil {
		reqLog(r).Warn("computing the protection failed", "err", err)
		v.Err = err.Error()
	}
	v.Total = len(vms)
	for _, c := range orderedCounts(vms) {
		v.Counts = append(v.Counts, stateCount{State: c.State, N: c.N, URL: protectionURL(c.State, sortBy), Current: c.State == state})
	}
	shown := protection.Filter(vms, "", filterStates(state))
	if sortBy == "age" {
		slices.SortStableFunc(shown, func(a, b events.ProtectionVM) int { return cmp.Compare(ageKey(b), ageKey(a)) })
	}
	for _, vm := range shown {
		v.Rows = append(v.Rows, s.protectionRow(vm))
	}
	v.SortURLs = map[string]string{"state": protectionURL(state, "state"), "age": protectionURL(state, "age")}
	s.render(w, r, http.StatusOK, "protection", view{Title: "Protection", Data: v})
}

func filterStates(state string) []string {
	if state == "" {
		return nil
	}
	return []string{state}
}

// ageKey sorts a VM with no copy as the oldest.
func ageKey(v events.ProtectionVM) int64 {
	if v.AgeSeconds < 0 {
		return 1 << 62
	}
	return v.AgeSeconds
}

func orderedCounts(vms []events.ProtectionVM) []stateCount {
	n := protection.Counts(vms)
	out := make([]stateCount, 0, len(n))
	for _, st := range events.ProtectionStates() {
		out = append(out, stateCount{State: st, N: n[st]})
	}
	return out
}

func protectionURL(state, sortBy string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if sortBy != "state" {
		q.Set("sort", sortBy)
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

func (s *Server) protectionRow(vm events.ProtectionVM) protectionRow {
	row := protectionRow{ProtectionVM: vm, Age: "never"}
	if vm.AgeSeconds >= 0 {
		row.Age = (time.Duration(vm.AgeSeconds) * time.Second).String()
	}
	for _, c := range vm.Last {
		row.Copies = append(row.Copies, c.Kind+" "+c.At.UTC().Format("2006-01-02 15:04Z")+" on "+c.Where+" ("+c.Job+")")
		if c.Kind == events.CopyBackup && row.BackupsURL == "" {
			if j, ok := s.env.Job(c.Job); ok && len(j.Remotes) > 0 {
				row.BackupsURL = "/restore?" + url.Values{"remote": {j.Remotes[0]}, "vm": {vm.UUID}}.Encode()
			}
		}
	}
	if len(vm.Jobs) > 0 {
		row.HistoryURL = "/history?" + url.Values{"job": {vm.Jobs[0]}}.Encode()
	}
	return row
}

// timeline is the next fires of every enabled schedule over 24 hours.
type timeline struct {
	From, To time.Time
	Marks    []fireMark
	Hours    []hourMark
}

// fireMark is one fire: its job and schedule and where it sits (percent).
type fireMark struct {
	Label string
	At    time.Time
	X     float64
}

type hourMark struct {
	Label string
	X     float64
}

// maxFiresPerSchedule bounds a "* * * * *" schedule's marks on the timeline.
const maxFiresPerSchedule = 48

func (s *Server) timeline(now time.Time) timeline {
	tl := timeline{From: now, To: now.Add(24 * time.Hour)}
	for h := 0; h <= 24; h += 6 {
		tl.Hours = append(tl.Hours, hourMark{Label: fmt.Sprintf("+%dh", h), X: float64(h) / 24 * 100})
	}
	for _, j := range s.env.Config.Jobs {
		for _, sc := range j.Schedules {
			if !sc.Enabled || sc.Spec.IsZero() {
				continue
			}
			fires := schedule.Fires(sc.Spec, cmp.Or(sc.Location, time.UTC), tl.From, tl.To)
			for _, f := range fires[:min(len(fires), maxFiresPerSchedule)] {
				tl.Marks = append(tl.Marks, fireMark{Label: j.Name + " / " + sc.Name, At: f,
					X: f.Sub(tl.From).Hours() / 24 * 100})
			}
		}
	}
	slices.SortStableFunc(tl.Marks, func(a, b fireMark) int { return a.At.Compare(b.At) })
	return tl
}
