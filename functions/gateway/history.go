package gateway

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"xbr/shared/history"
)

// historyShown bounds the runs listed on /history and offered for comparison.
const historyShown = 100

// historyKept is how many runs and restores the pages hold in memory by
// default (gateway.history_runs): what /history lists. A job's own list
// (/history?job=J) shows its runs among them; an older run is read from
// the stream when asked for (storedRun). With twice as many, the soak's
// heap in use grew by 8 MiB from its run 100 to its run 1,000, against 5.
const historyKept = historyShown

func (s *Server) historyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /history", s.historyList)
	mux.HandleFunc("GET /history/compare", s.historyCompare)
	mux.HandleFunc("GET /history/{run}", s.historyRun)
}

// followHistory feeds the History pages' projection from the start of the
// streams until ctx ends, starting over (the projection ignores what it
// already applied) when reading fails. It first replays what the streams
// held when it started, so the Protection view knows when the history is
// complete (a VM is not late because its run was not read yet); Follow
// then reads them again, the projection ignoring what it already applied.
func (s *Server) followHistory(ctx context.Context) {
	if err := history.Load(ctx, s.env.Conn, s.env.Streams, s.history); err != nil && ctx.Err() == nil {
		s.log.Warn("history: replaying the streams failed; following them", "err", err)
	}
	s.historyLoading.Store(false)
	for ctx.Err() == nil {
		fctx, cancel := context.WithCancel(ctx)
		err := history.Follow(fctx, s.env.Conn, s.env.Streams, s.history)
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("history: following the streams failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// historyList is GET /history[?job=J]: the newest runs, each with its task tree.
func (s *Server) historyList(w http.ResponseWriter, r *http.Request) {
	job := r.URL.Query().Get("job")
	if job != "" {
		if err := checkName("job", job); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	all := history.Filter(s.history.Runs(), job, "")
	runs := make([]runView, 0, min(len(all), historyShown))
	for _, run := range all[:min(len(all), historyShown)] {
		runs = append(runs, newRunView(run))
	}
	crumbs := []crumb{{"History", ""}}
	if job != "" {
		crumbs = []crumb{{"History", "/history"}, {"Job " + job, ""}}
	}
	s.render(w, r, http.StatusOK, "history", view{Title: "History", Crumbs: crumbs, Data: struct {
		Job     string
		Runs    []runView
		Total   int
		Jobs    []jobLink
		Choices []runChoice
	}{job, runs, len(all), s.jobLinks(), choices(all, "")}})
}

// historyRun is GET /history/{run}: one run's task tree and transfer-rate chart.
func (s *Server) historyRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.lookupRun(r.Context(), "run", r.PathValue("run"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	rv := newRunView(run)
	var c *chart
	if lines := vmLines(run, s.history.Rates(run.ID)); len(lines) > 0 {
		c = newChart("rate", "Transfer rate of "+rv.Label+", by VM", lines)
	}
	s.render(w, r, http.StatusOK, "history_run", view{Title: rv.Title(),
		Crumbs: []crumb{{"History", "/history"}, {rv.Label, ""}},
		Data: struct {
			Run     runView
			Chart   *chart
			Choices []runChoice
		}{rv, c, choices(s.history.Runs(), run.ID)}})
}

// historyCompare is GET /history/compare?a=RUN&b=RUN: both runs' total
// transfer rate on one chart, each from its own start.
func (s *Server) historyCompare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var runs [2]history.Run
	for i, field := range []string{"a", "b"} {
		var err error
		if runs[i], err = s.lookupRun(r.Context(), field, q.Get(field)); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	a, b := newRunView(runs[0]), newRunView(runs[1])
	lines := []line{
		{Name: "A: " + a.Label, Samples: aggregate(runs[0], s.history.Rates(runs[0].ID))},
		{Name: "B: " + b.Label, Samples: aggregate(runs[1], s.history.Rates(runs[1].ID))},
	}
	c := newChart("compare", "Total transfer rate of two runs, from each run's start", lines)
	s.render(w, r, http.StatusOK, "history_compare", view{Title: "Compare two runs",
		Crumbs: []crumb{{"History", "/history"}, {"Compare", ""}},
		Data: struct {
			Runs  []compareRow
			Chart *chart
		}{[]compareRow{{"A", a}, {"B", b}}, c}})
}

// lookupRun validates a run id from the request and finds the run: in the
// projection, or else on the stream (storedRun).
func (s *Server) lookupRun(ctx context.Context, field, id string) (history.Run, error) {
	if err := checkRunID(field, id); err != nil {
		return history.Run{}, err
	}
	if run, ok := s.history.Run(id); ok {
		return run, nil
	}
	run, ok, err := s.storedRun(ctx, id)
	if err != nil {
		return history.Run{}, err
	}
	if !ok {
		return history.Run{}, missing(field, id, "no such run in the history")
	}
	return run, nil
}

// compareRow is one run of a comparison and its line's name.
type compareRow struct {
	Line string
	Run  runView
}

type jobLink struct{ Name, URL string }

func (s *Server) jobLinks() []jobLink {
	var out []jobLink
	if s.env.Config == nil {
		return nil
	}
	for _, j := range s.env.Config.Jobs {
		out = append(out, jobLink{j.Name, "/history?" + url.Values{"job": {j.Name}}.Encode()})
	}
	return out
}

// runChoice is a run offered in a comparison form.
type runChoice struct{ ID, Label string }

// choices are the job runs (restores have no VM lines to compare)
// other than except, newest first.
func choices(runs []history.Run, except string) []runChoice {
	var out []runChoice
	for _, run := range runs {
		if run.ID == except || !history.IsJobRun(run.Message) {
			continue
		}
		v := newRunView(run)
		out = append(out, runChoice{run.ID, v.Label + " (" + run.Status + ")"})
		if len(out) == historyShown {
			break
		}
	}
	return out
}
