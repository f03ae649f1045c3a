package cli

import (
	"fmt"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
)

// recordingView records what a view is asked to show.
type recordingView struct{ calls []string }

func (v *recordingView) Line(format string, args ...any) {
	v.calls = append(v.calls, "line "+fmt.Sprintf(format, args...))
}
func (v *recordingView) Progress(key, _ string, t events.Transfer) {
	v.calls = append(v.calls, fmt.Sprintf("progress %s %d/%d", key, t.Bytes, t.TotalBytes))
}
func (v *recordingView) Done(key string)         { v.calls = append(v.calls, "done "+key) }
func (v *recordingView) Waiting(key, _ string)   { v.calls = append(v.calls, "waiting "+key) }
func (v *recordingView) Object(string, jsonLine) {}
func (v *recordingView) Close()                  { v.calls = append(v.calls, "close") }
func (v *recordingView) JSON() bool              { return false }

// TestVerifyProgress: a local verify's reads become at most one redraw per
// verifyRedraw per backup, the last read always shown, and each backup's
// line ends when it is read or the next one begins.
func TestVerifyProgress(t *testing.T) {
	a, err := catalog.ParseID("nfs:6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f/20261129T010000Z")
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.Time = b.Time.Add(24 * time.Hour)
	v := &recordingView{}
	p := &verifyProgress{v: v}
	for n := int64(1); n <= 1000; n++ { // a thousand quick reads of a
		p.update(a, n, 1000)
	}
	p.update(b, 10, 100) // b begins before its first one is drawn
	p.update(b, 20, 100)
	p.close()
	want := []string{"progress " + a.String() + " 1/1000", "progress " + a.String() + " 1000/1000", "done " + a.String(),
		"progress " + b.String() + " 10/100", "close"}
	if fmt.Sprint(v.calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%v\nwant\n%v", v.calls, want)
	}
}
