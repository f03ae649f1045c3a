package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"xbr/events"
	"xbr/shared/config"
)

// barRefresh is how often the terminal view redraws its progress lines.
const barRefresh = 150 * time.Millisecond

// view shows what a long command follows: lifecycle lines, one live line
// per transfer in flight, and a final result. A terminal gets redrawn bars,
// a pipe or file plain lines, --json newline-delimited JSON objects.
type view interface {
	// Line prints one line about a change (a VM started, completed, ...).
	Line(format string, args ...any)
	// Progress shows how far transfer key (a VM, a restore) has got.
	Progress(key, label string, t events.Transfer)
	// Waiting shows a live line with the time spent on step key (a test
	// VM booting), for work that moves no bytes; Done ends it.
	Waiting(key, label string)
	// Done ends key's live line.
	Done(key string)
	// Object writes one JSON object of kind typ (only the JSON view does).
	Object(typ string, o jsonLine)
	// Close ends every live line; call it before the final lines.
	Close()
	// JSON reports whether this view writes JSON (then text lines are
	// dropped and objects kept).
	JSON() bool
}

// jsonLine is one object of a --json stream. Type is "requested",
// "progress", "event", "status" or "result"; Event names the CloudEvents
// type where one is shown; Data is the payload or status. A command that
// fails ends its stream with a "result" with Error (the message it prints
// on stderr) and no Data.
type jsonLine struct {
	Type     string    `json:"type"`
	Event    string    `json:"event,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	Data     any       `json:"data,omitempty"`
	Error    string    `json:"error,omitempty"`
	ExitCode *int      `json:"exit_code,omitempty"`
}

// newView picks the view for cmd's output.
func newView(cmd *cobra.Command, asJSON bool) view {
	out := cmd.OutOrStdout()
	switch {
	case asJSON:
		return &jsonView{enc: json.NewEncoder(out)}
	case isTerminal(out):
		return newBarView(out)
	}
	return &textView{w: out}
}

// transferLine is a transfer's live text: bytes, total, rate and ETA.
func transferLine(t events.Transfer) string {
	total := "?"
	if t.TotalBytes > 0 {
		total = config.ByteSize(t.TotalBytes).Human()
	}
	eta := "?"
	if t.ETASeconds > 0 || (t.TotalBytes > 0 && t.Bytes >= t.TotalBytes) {
		eta = (time.Duration(t.ETASeconds) * time.Second).String()
	}
	return fmt.Sprintf("%s of %s  %s/s  ETA %s", config.ByteSize(t.Bytes).Human(), total,
		config.ByteSize(t.BytesPerSecond).Human(), eta)
}

// textView prints plain lines, one per progress event: no ANSI codes.
type textView struct{ w io.Writer }

func (v *textView) Line(format string, args ...any) { fmt.Fprintf(v.w, format+"\n", args...) }
func (v *textView) Progress(_, label string, t events.Transfer) {
	fmt.Fprintf(v.w, "  %s: %s\n", label, transferLine(t))
}
func (v *textView) Waiting(string, string)  {}
func (v *textView) Done(string)             {}
func (v *textView) Object(string, jsonLine) {}
func (v *textView) Close()                  {}
func (v *textView) JSON() bool              { return false }

// jsonView writes newline-delimited JSON objects only.
type jsonView struct{ enc *json.Encoder }

func (v *jsonView) Line(string, ...any)                      {}
func (v *jsonView) Progress(string, string, events.Transfer) {}
func (v *jsonView) Waiting(string, string)                   {}
func (v *jsonView) Done(string)                              {}
func (v *jsonView) Close()                                   {}
func (v *jsonView) JSON() bool                               { return true }
func (v *jsonView) Object(typ string, o jsonLine) {
	o.Type = typ
	_ = v.enc.Encode(o) // a closed stdout ends the command through its context
}

// barView draws one mpb bar per transfer in flight; lines go above them.
type barView struct {
	p      *mpb.Progress
	out    io.Writer
	mu     sync.Mutex
	bars   map[string]*liveBar
	closed bool
}

// liveBar is one bar and the transfer its text decorator reads.
type liveBar struct {
	bar *mpb.Bar
	mu  sync.Mutex
	t   events.Transfer
}

// newBarView starts drawing on out until Close. The container does not
// follow the command's context: a command interrupted by a signal still
// closes its view, which then ends its lines cleanly.
func newBarView(out io.Writer) *barView {
	p := mpb.New(mpb.WithOutput(out), mpb.WithRefreshRate(barRefresh), mpb.WithWidth(30))
	return &barView{p: p, out: out, bars: map[string]*liveBar{}}
}

// Line prints above the bars, or straight out once they are gone.
func (v *barView) Line(format string, args ...any) {
	v.mu.Lock()
	closed := v.closed
	v.mu.Unlock()
	if closed {
		fmt.Fprintf(v.out, format+"\n", args...)
		return
	}
	fmt.Fprintf(v.p, format+"\n", args...)
}
func (v *barView) Object(string, jsonLine) {}
func (v *barView) JSON() bool              { return false }

func (v *barView) Progress(key, label string, t events.Transfer) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	b, ok := v.bars[key]
	if !ok {
		b = &liveBar{}
		// A transfer of unknown size (a replica) spins: a bar needs a total.
		var filler mpb.BarFillerBuilder = mpb.BarStyle()
		if t.TotalBytes <= 0 {
			filler = mpb.SpinnerStyle()
		}
		bar, err := v.p.Add(0, filler.Build(), mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(b.text, decor.WCSyncSpace)))
		if err != nil { // the container ended: nothing more is drawn
			v.mu.Unlock()
			return
		}
		b.bar = bar
		v.bars[key] = b
	}
	v.mu.Unlock()
	b.mu.Lock()
	b.t = t
	b.mu.Unlock()
	if t.TotalBytes > 0 {
		b.bar.SetTotal(t.TotalBytes, false)
	}
	b.bar.SetCurrent(t.Bytes)
}

func (v *barView) Waiting(key, label string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.bars[key]; ok || v.closed {
		return
	}
	bar, err := v.p.Add(0, mpb.SpinnerStyle().Build(), mpb.BarRemoveOnComplete(), mpb.BarWidth(1),
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)))
	if err == nil {
		v.bars[key] = &liveBar{bar: bar}
	}
}

func (b *liveBar) text(decor.Statistics) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.t.TotalBytes > 0 {
		return fmt.Sprintf("%3d %%  %s", min(b.t.Bytes*100/b.t.TotalBytes, 100), transferLine(b.t))
	}
	return transferLine(b.t)
}

func (v *barView) Done(key string) {
	v.mu.Lock()
	b, ok := v.bars[key]
	delete(v.bars, key)
	v.mu.Unlock()
	if ok {
		b.bar.Abort(true) // removed: the line that says how it ended replaces it
	}
}

func (v *barView) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	for k, b := range v.bars {
		b.bar.Abort(true)
		delete(v.bars, k)
	}
	v.mu.Unlock()
	// A last bar, completed at once, makes the container render once more,
	// which writes the lines still buffered.
	if last, err := v.p.Add(0, mpb.NopStyle().Build(), mpb.BarRemoveOnComplete()); err == nil {
		last.SetTotal(-1, true)
	}
	v.p.Wait()
}
