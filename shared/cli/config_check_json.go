package cli

import (
	"encoding/json"
	"errors"
	"io"
	"time"

	"xbr/shared/config"
)

// checkReport is `config check --json`: the outcome, every problem with its
// place, and on success each schedule's next fire in its own time zone.
type checkReport struct {
	File            string         `json:"file"`
	OK              bool           `json:"ok"`
	SecretsResolved bool           `json:"secrets_resolved"`
	Problems        []checkProblem `json:"problems"`
	Jobs            []checkJob     `json:"jobs"`
}

type checkProblem struct {
	File    string  `json:"file"`
	Line    int     `json:"line,omitempty"`
	Field   string  `json:"field,omitempty"`
	Value   *string `json:"value,omitempty"`
	Message string  `json:"message"`
}

type checkJob struct {
	Name      string          `json:"name"`
	Mode      string          `json:"mode"`
	Schedules []checkSchedule `json:"schedules"`
}

type checkSchedule struct {
	Name     string     `json:"name"`
	Cron     string     `json:"cron"`
	Timezone string     `json:"timezone"`
	Enabled  bool       `json:"enabled"`
	Next     *time.Time `json:"next,omitempty"` // RFC 3339 with the schedule's offset
}

// problemsOf lists err's field errors (config.Load joins them); any other
// error is one problem without a place.
func problemsOf(file string, err error) []checkProblem {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]checkProblem, 0, len(errs))
	for _, e := range errs {
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			out = append(out, checkProblem{File: file, Message: e.Error()})
			continue
		}
		p := checkProblem{File: fe.File, Line: fe.Line, Field: fe.Path, Message: fe.Msg}
		if fe.HasValue {
			v := fe.Value
			p.Value = &v
		}
		out = append(out, p)
	}
	return out
}

// jobsOf lists c's schedules with their next fire after now.
func jobsOf(c *config.Config, now time.Time) []checkJob {
	jobs := make([]checkJob, 0, len(c.Jobs))
	for _, j := range c.Jobs {
		cj := checkJob{Name: j.Name, Mode: j.Mode, Schedules: make([]checkSchedule, 0, len(j.Schedules))}
		for _, s := range j.Schedules {
			cs := checkSchedule{Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, Enabled: s.Enabled}
			if s.Enabled {
				next := s.Spec.Next(now, s.Location)
				cs.Next = &next
			}
			cj.Schedules = append(cj.Schedules, cs)
		}
		jobs = append(jobs, cj)
	}
	return jobs
}

// writeCheckJSON writes the report as one indented JSON object.
func writeCheckJSON(w io.Writer, r checkReport) error {
	if r.Problems == nil {
		r.Problems = []checkProblem{}
	}
	if r.Jobs == nil {
		r.Jobs = []checkJob{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
