package report

import (
	"fmt"
	"strings"
	"time"

	"xbr/shared/config"
	"xbr/shared/history"
)

// ShouldSend applies reportWhen to a run's status.
func ShouldSend(when, status string) bool {
	switch when {
	case config.ReportAlways:
		return true
	case config.ReportNever:
		return false
	}
	return status != history.StatusSuccess // failure (the default)
}

// Title is the one-line summary: job, status, counts, duration.
func Title(r history.Run) string {
	counts := map[string]int{}
	for _, t := range r.Tasks {
		counts[t.Status]++
	}
	var parts []string
	for _, s := range []string{history.StatusSuccess, history.StatusFailure, history.StatusSkipped, history.StatusInterrupted} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	title := fmt.Sprintf("xbr %s %s: %s", r.Message, jobName(r), strings.ToUpper(r.Status))
	if len(parts) > 0 {
		title += " (" + strings.Join(parts, ", ") + " of " + fmt.Sprint(len(r.Tasks)) + " VMs)"
	}
	if r.DurationMS > 0 {
		title += " in " + (time.Duration(r.DurationMS) * time.Millisecond).Round(time.Second).String()
	}
	if r.Size > 0 {
		title += ", " + history.HumanBytes(r.Size)
	}
	return title + healthTitle(r)
}

// healthTitle sums up the run's health checks: "; health checks: 1
// passed, 1 failed" ("" when none ran).
func healthTitle(r history.Run) string {
	counts := healthOutcomes(r)
	var parts []string
	for _, o := range []string{healthPassed, healthFailed, healthUnfinished} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; health checks: " + strings.Join(parts, ", ")
}

func jobName(r history.Run) string {
	if r.Schedule != "" {
		return r.Job + "/" + r.Schedule
	}
	return r.Job
}

// Tree is the run's task tree as `xbr history` prints it.
func Tree(r history.Run) string {
	var b strings.Builder
	_ = history.WriteText(&b, []history.Run{r})
	return b.String()
}

// Text is the whole report: the title, then the run's task tree.
func Text(r history.Run) string { return Title(r) + "\n" + Tree(r) }
