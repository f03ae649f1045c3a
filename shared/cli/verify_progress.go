package cli

import (
	"sync"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/catalog"
)

// verifyRedraw is how often a backup's live line takes new numbers: reads
// come far more often than a terminal can show them.
const verifyRedraw = 100 * time.Millisecond

// verifyProgress shows the backup a local verify is reading as a live line
// on a terminal; elsewhere (a pipe, --json) it shows nothing, and the
// reports alone are printed, as before.
type verifyProgress struct {
	v     view // nil: nothing shown
	mu    sync.Mutex
	key   string
	start time.Time
	drawn time.Time
}

func newVerifyProgress(cmd *cobra.Command, asJSON bool) *verifyProgress {
	if asJSON || !isTerminal(cmd.OutOrStdout()) {
		return &verifyProgress{}
	}
	return &verifyProgress{v: newBarView(cmd.OutOrStdout())}
}

// update is integrity.Options.Progress.
func (p *verifyProgress) update(id catalog.ID, read, total int64) {
	if p.v == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	key := id.String()
	if key != p.key {
		if p.key != "" {
			p.v.Done(p.key)
		}
		p.key, p.start, p.drawn = key, now, time.Time{}
	}
	if read < total && now.Sub(p.drawn) < verifyRedraw {
		return
	}
	p.drawn = now
	p.v.Progress(key, key, events.TransferAt(read, total, now.Sub(p.start)))
	if read >= total {
		p.v.Done(key)
		p.key = ""
	}
}

func (p *verifyProgress) close() {
	if p.v != nil {
		p.v.Close()
	}
}
