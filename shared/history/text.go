package history

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"xbr/shared/config"
)

// WriteText prints runs as indented task trees, one line per task with its
// status, start, duration, size, throughput and outcome; the error text of a
// failure gets its own line.
func WriteText(w io.Writer, runs []Run) error {
	var b strings.Builder
	for i, r := range runs {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeRun(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRun(b *strings.Builder, r Run) {
	head := r.Message + " " + r.ID
	if r.Job != "" {
		head += "  job " + r.Job
		if r.Schedule != "" {
			head += "/" + r.Schedule
		}
	}
	if r.Mode != "" && r.Mode != KindRestore {
		head += "  mode " + r.Mode
	}
	if r.Manual {
		head += "  manual"
	}
	if r.RequestedBy != "" {
		head += "  by " + r.RequestedBy
	}
	if r.BackupID != "" {
		head += "  backup " + r.BackupID
	}
	b.WriteString(head + "\n")
	writeTask(b, &r.Task, 1, true)
}

func writeTask(b *strings.Builder, t *Task, depth int, root bool) {
	ind := strings.Repeat("  ", depth)
	fields := []string{}
	if !root {
		fields = append(fields, label(t))
	}
	fields = append(fields, strings.ToUpper(t.Status))
	if !t.Start.IsZero() {
		fields = append(fields, t.Start.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if t.DurationMS > 0 {
		fields = append(fields, (time.Duration(t.DurationMS) * time.Millisecond).Round(time.Millisecond).String())
	}
	if t.Size > 0 {
		fields = append(fields, HumanBytes(t.Size))
	}
	if t.BytesPerSecond > 0 {
		fields = append(fields, HumanBytes(t.BytesPerSecond)+"/s")
	}
	if t.Attempts > 1 {
		fields = append(fields, fmt.Sprintf("%d attempts", t.Attempts))
	}
	if t.BackupID != "" && t.Message != KindVM && !root {
		fields = append(fields, t.BackupID)
	}
	if t.Result != "" {
		fields = append(fields, t.Result)
	}
	b.WriteString(ind + strings.Join(fields, "  ") + "\n")
	for _, line := range []struct{ k, v string }{{"reason", t.Reason}, {"error", t.Error}} {
		if line.v != "" {
			b.WriteString(ind + "  " + line.k + ": " + line.v + "\n")
		}
	}
	for _, wn := range t.Warnings {
		b.WriteString(ind + "  warning: " + wn + "\n")
	}
	for _, c := range t.Tasks {
		writeTask(b, c, depth+1, false)
	}
}

func label(t *Task) string {
	switch t.Message {
	case KindVM:
		if t.VMName != "" {
			return "VM " + t.VMName + " (" + t.VMUUID + ")"
		}
		return "VM " + t.VMUUID
	case KindTransfer, KindPrune, KindVerify:
		if t.Remote != "" {
			return t.Message + " " + t.Remote
		}
	}
	return t.Message
}

// HumanBytes renders n in binary units ("1.5 GiB"): config.ByteSize.Human.
func HumanBytes(n int64) string { return config.ByteSize(n).Human() }

// Filter keeps the runs of job (if not "") and the run id (if not "").
func Filter(runs []Run, job, id string) []Run {
	var out []Run
	for _, r := range runs {
		if (job == "" || r.Job == job) && (id == "" || r.ID == id) {
			out = append(out, r)
		}
	}
	return out
}

// VMNames are the VMs the runs' tasks name: uuid to name ("" when no task
// named it).
func VMNames(runs []Run) map[string]string {
	out := map[string]string{}
	for i := range runs {
		learnNames(&runs[i].Task, out)
	}
	return out
}

// learnNames adds the VMs that t's tasks name to names (uuid to name).
func learnNames(t *Task, names map[string]string) {
	if t.VMUUID != "" && names[t.VMUUID] == "" {
		names[t.VMUUID] = t.VMName
	}
	for _, c := range t.Tasks {
		learnNames(c, names)
	}
}

// FilterVM is the runs with a task about the VM of uuid.
func FilterVM(runs []Run, uuid string) []Run {
	var out []Run
	for i := range runs {
		if touches(&runs[i].Task, uuid) {
			out = append(out, runs[i])
		}
	}
	return out
}

func touches(t *Task, uuid string) bool {
	if t.VMUUID == uuid {
		return true
	}
	return slices.ContainsFunc(t.Tasks, func(c *Task) bool { return touches(c, uuid) })
}
