package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/history"
)

// followRun shows the events of run id, read from watches (the lifecycle
// stream and the progress stream), until it completes, and maps its status
// to the exit code.
func followRun(ctx context.Context, v view, watches []*bus.Watch, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs := make(chan bus.Record)
	errs := make(chan error, len(watches))
	for _, w := range watches {
		go w.Pump(ctx, recs, errs)
	}
	f := runFollower{v: v, names: map[string]string{}, ended: map[string]bool{}}
	for {
		select {
		case r := <-recs:
			if r.Err != nil || runOf(r.Event) != id {
				continue
			}
			if done, err := f.show(r.Event); done {
				return err
			}
		case err := <-errs:
			v.Close()
			return fmt.Errorf("following run %s: %w", id, err)
		}
	}
}

func runOf(r events.Received) string {
	if v, ok := r.Event.Extensions()[events.ExtensionRun].(string); ok {
		return v
	}
	return ""
}

// runFollower shows one run's events on a view: it remembers VM names
// (progress events carry only uuids) and which VMs ended, so that a late
// progress event does not draw a finished VM's bar again.
type runFollower struct {
	v     view
	names map[string]string
	ended map[string]bool
}

// show shows one event; done is true once the run completed, with the error
// that carries its exit code.
func (f *runFollower) show(r events.Received) (done bool, err error) {
	if vm, t, ok := runTransfer(r.Payload); ok {
		f.v.Object("progress", jsonLine{Event: string(r.Type()), Time: r.Event.Time(), Data: r.Payload})
		if !f.ended[vm] {
			f.v.Progress(vm, f.label(vm), t)
		}
		return false, nil
	}
	line, vm, name, ends := runLine(r.Payload)
	if vm != "" && name != "" {
		f.names[vm] = name
	}
	if ends {
		f.ended[vm] = true
		f.v.Done(vm)
	} else if vm != "" {
		delete(f.ended, vm) // a new attempt
	}
	p, final := r.Payload.(events.RunCompleted)
	if !final {
		if line != "" {
			f.v.Object("event", jsonLine{Event: string(r.Type()), Time: r.Event.Time(), Data: r.Payload})
			f.v.Line("%s", line)
		}
		return false, nil
	}
	f.v.Close()
	err = runExit(p.Status)
	code := exitCodeOf(err)
	f.v.Object("result", jsonLine{Event: string(r.Type()), Time: r.Event.Time(), Data: p, ExitCode: &code})
	f.v.Line("%s", line)
	return true, err
}

func (f *runFollower) label(vm string) string {
	if n := f.names[vm]; n != "" {
		return n
	}
	return vm
}

// runTransfer is the VM and transfer of a progress event of a run.
func runTransfer(p events.Payload) (vm string, t events.Transfer, ok bool) {
	switch p := p.(type) {
	case events.ExportProgress:
		return p.VMUUID, p.Transfer, true
	case events.IncrementalProgress:
		return p.VMUUID, p.Transfer, true
	case events.ReplicateProgress:
		return p.VMUUID, p.Transfer, true
	}
	return "", events.Transfer{}, false
}

// runExit is the error that carries the exit code of a run's status.
func runExit(status string) error {
	switch status {
	case events.StatusSuccess:
		return nil
	case events.StatusSkipped:
		return &ExitError{Code: exitRunSkipped}
	}
	return &ExitError{Code: exitRunFailed}
}

// exitCodeOf is the exit code err gives the command.
func exitCodeOf(err error) int {
	if e := (*ExitError)(nil); errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return 1
	}
	return 0
}

// runLine is the text line of a lifecycle event of a run ("" for events not
// shown), the VM it is about with its name, and whether it ends that VM's
// transfer.
func runLine(pl events.Payload) (line, vm, name string, ends bool) {
	switch p := pl.(type) {
	case events.RunStarted:
		return fmt.Sprintf("started: %d VM(s)", len(p.VMs)), "", "", false
	case events.ExportStarted:
		return vmLine(p.VMName, p.VMUUID, "exporting to %v", p.Remotes), p.VMUUID, p.VMName, false
	case events.ExportCompleted:
		return vmLine(p.VMName, p.VMUUID, "done, %s %s in %s (%s/s)", config.ByteSize(p.Size).Human(), p.Codec,
			millis(p.DurationMS), config.ByteSize(p.BytesPerSecond).Human()), p.VMUUID, p.VMName, true
	case events.ExportFailed:
		return vmLine(p.VMName, p.VMUUID, "FAILED: %s", p.Error), p.VMUUID, p.VMName, true
	case events.IncrementalStarted:
		return vmLine(p.VMName, p.VMUUID, "incremental backup to %s (attempt %d)", p.Remote, p.Attempt), p.VMUUID, p.VMName, false
	case events.IncrementalCompleted:
		return vmLine(p.VMName, p.VMUUID, "done, %s", history.PathWords(p)), p.VMUUID, p.VMName, true
	case events.IncrementalFailed:
		return vmLine(p.VMName, p.VMUUID, "FAILED: %s", p.Error), p.VMUUID, p.VMName, true
	case events.SnapshotCompleted:
		return vmLine(p.VMName, p.VMUUID, "snapshot %s", p.SnapshotName), p.VMUUID, p.VMName, true
	case events.SnapshotFailed:
		return vmLine(p.VMName, p.VMUUID, "snapshot FAILED: %s", p.Error), p.VMUUID, p.VMName, true
	case events.RunCompleted:
		return runCompletedLine(p), "", "", false
	}
	return replicateLine(pl)
}

// replicateLine is runLine for the events of a replicate run.
func replicateLine(pl events.Payload) (line, vm, name string, ends bool) {
	switch p := pl.(type) {
	case events.ReplicateStarted:
		return vmLine(p.VMName, p.VMUUID, "replicating to pool %s, SR %s (attempt %d)", p.TargetPool, p.TargetSR, max(p.Attempt, 1)),
			p.VMUUID, p.VMName, false
	case events.ReplicateCompleted:
		return vmLine(p.VMName, p.VMUUID, "done, copy %q (%s) on pool %s, %s in %s (%s/s)", p.CopyName, p.CopyUUID, p.TargetPool,
			config.ByteSize(p.Bytes).Human(), millis(p.DurationMS), config.ByteSize(p.BytesPerSecond).Human()), p.VMUUID, p.VMName, true
	case events.ReplicateFailed:
		return vmLine(p.VMName, p.VMUUID, "FAILED: %s", p.Error), p.VMUUID, p.VMName, true
	}
	return "", "", "", false
}

func vmLine(name, uuid, format string, args ...any) string {
	return fmt.Sprintf("  %s (%s): ", name, uuid) + fmt.Sprintf(format, args...)
}

func runCompletedLine(p events.RunCompleted) string {
	line := fmt.Sprintf("run %s: %s", p.RunID, p.Status)
	if p.Reason != "" {
		line += fmt.Sprintf(" (%s)", p.Reason)
	}
	return line + fmt.Sprintf(" in %s", millis(p.DurationMS))
}

func millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
