package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/history"
)

// followRun prints the lifecycle events of run id until it completes and maps
// its status to the exit code.
func followRun(cmd *cobra.Command, w *bus.Watch, id string) error {
	out := cmd.OutOrStdout()
	for {
		r, err := w.Next(cmd.Context())
		if err != nil {
			return fmt.Errorf("following run %s: %w", id, err)
		}
		if r.Err != nil || runOf(r.Event) != id {
			continue
		}
		if done, err := printRunEvent(out, r.Event); done {
			return err
		}
	}
}

func runOf(r events.Received) string {
	if v, ok := r.Event.Extensions()[events.ExtensionRun].(string); ok {
		return v
	}
	return ""
}

// printRunEvent prints one event; done is true once the run completed, with
// the error that carries its exit code.
func printRunEvent(w io.Writer, r events.Received) (done bool, err error) {
	switch p := r.Payload.(type) {
	case events.RunStarted:
		fmt.Fprintf(w, "started: %d VM(s)\n", len(p.VMs))
	case events.ExportStarted:
		fmt.Fprintf(w, "  %s (%s): exporting to %v\n", p.VMName, p.VMUUID, p.Remotes)
	case events.ExportCompleted:
		fmt.Fprintf(w, "  %s (%s): done, %s %s in %s (%s/s)\n", p.VMName, p.VMUUID, config.ByteSize(p.Size).Human(), p.Codec,
			time.Duration(p.DurationMS)*time.Millisecond, config.ByteSize(p.BytesPerSecond).Human())
	case events.ExportFailed:
		fmt.Fprintf(w, "  %s (%s): FAILED: %s\n", p.VMName, p.VMUUID, p.Error)
	case events.IncrementalStarted:
		fmt.Fprintf(w, "  %s (%s): incremental backup to %s (attempt %d)\n", p.VMName, p.VMUUID, p.Remote, p.Attempt)
	case events.IncrementalCompleted:
		fmt.Fprintf(w, "  %s (%s): done, %s\n", p.VMName, p.VMUUID, history.PathWords(p))
	case events.IncrementalFailed:
		fmt.Fprintf(w, "  %s (%s): FAILED: %s\n", p.VMName, p.VMUUID, p.Error)
	case events.SnapshotCompleted:
		fmt.Fprintf(w, "  %s (%s): snapshot %s\n", p.VMName, p.VMUUID, p.SnapshotName)
	case events.SnapshotFailed:
		fmt.Fprintf(w, "  %s (%s): snapshot FAILED: %s\n", p.VMName, p.VMUUID, p.Error)
	case events.RunCompleted:
		fmt.Fprintf(w, "run %s: %s", p.RunID, p.Status)
		if p.Reason != "" {
			fmt.Fprintf(w, " (%s)", p.Reason)
		}
		fmt.Fprintf(w, " in %s\n", time.Duration(p.DurationMS)*time.Millisecond)
		switch p.Status {
		case events.StatusSuccess:
			return true, nil
		case events.StatusSkipped:
			return true, &ExitError{Code: exitRunSkipped}
		}
		return true, &ExitError{Code: exitRunFailed}
	}
	return false, nil
}
