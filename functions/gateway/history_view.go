package gateway

import (
	"fmt"
	"strings"

	"xbr/shared/history"
)

// runView is a run as the History pages show it.
type runView struct {
	history.Run
	URL, Label string
	VMs        int
	Tree       []taskView
	// Open: the task tree is unfolded on the list (the run did not succeed).
	Open bool
}

// taskView is one node of a run's task tree, with its label for people.
type taskView struct {
	*history.Task
	Label    string
	Children []taskView
}

func newRunView(run history.Run) runView {
	v := runView{Run: run, URL: "/history/" + run.ID, Label: runLabel(run),
		Open: run.Status != history.StatusSuccess && run.Status != history.StatusPending}
	for _, t := range run.Tasks {
		if t.Message == history.KindVM {
			v.VMs++
		}
		v.Tree = append(v.Tree, newTaskView(t))
	}
	return v
}

func newTaskView(t *history.Task) taskView {
	v := taskView{Task: t, Label: taskLabel(t)}
	for _, c := range t.Tasks {
		v.Children = append(v.Children, newTaskView(c))
	}
	return v
}

// Title is the run page's heading.
func (v runView) Title() string {
	if v.Message == history.KindRun {
		return "Backup run " + v.Label
	}
	return strings.ToUpper(v.Message[:1]) + v.Message[1:] + " " + v.Label
}

// runLabel names a run for people: job / schedule and when it started.
func runLabel(run history.Run) string {
	what := run.Job
	if run.Schedule != "" {
		what += " / " + run.Schedule
	}
	if what == "" {
		what = run.ID
	}
	if run.Start.IsZero() {
		return what
	}
	return what + ", " + run.Start.UTC().Format("2006-01-02 15:04:05 UTC")
}

// taskLabel is what a task is about, as xbr history prints it.
func taskLabel(t *history.Task) string {
	switch t.Message {
	case history.KindVM:
		if t.VMName != "" {
			return "VM " + t.VMName
		}
		return "VM " + t.VMUUID
	case history.KindTransfer:
		if t.Remote != "" {
			return "transfer to " + t.Remote
		}
	case history.KindPrune, history.KindVerify:
		if t.Remote != "" {
			return t.Message + " " + t.Remote
		}
	}
	return t.Message
}

// checkRunID refuses what cannot be a run or restore id: ids are made of
// letters, digits, '-', '_' and '.', at most 128 of them.
func checkRunID(field, id string) error {
	if id == "" {
		return badField(field, "", "is required (a run id from the history)")
	}
	return checkName(field, id)
}

// checkName accepts 1 to 128 letters, digits, '-', '_' and '.'.
func checkName(field, v string) error {
	if len(v) == 0 || len(v) > 128 {
		return badField(field, v, fmt.Sprintf("must be 1 to 128 characters, not %d", len(v)))
	}
	for i, c := range v {
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return badField(field, v, fmt.Sprintf("character %d (%q) is not a letter, digit, '-', '_' or '.'", i, c))
		}
	}
	return nil
}
