package report_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/chattext"
	"xbr/shared/config"
	"xbr/shared/history"
	"xbr/shared/testsupport"
)

// posted is the one text sl received.
func posted(t *testing.T, sl *slack) string {
	t.Helper()
	got := sl.got()
	if len(got) != 1 {
		t.Fatalf("%d posts, want 1", len(got))
	}
	return got[0]
}

// checkCut checks a report cut to fit a chat message: within MaxText, the
// title first, then the first lines of body (escaped) in a code block,
// whole, then a last line naming how many were left out and more.
func checkCut(t *testing.T, text, title, body, more string) {
	t.Helper()
	if len(text) > report.MaxText {
		t.Errorf("the posted text is %d bytes, over MaxText (%d)", len(text), report.MaxText)
	}
	lines := strings.Split(text, "\n")
	if lines[0] != chattext.Slack(title) {
		t.Errorf("first line %q, want the title %q", lines[0], title)
	}
	all := strings.Split(strings.TrimSuffix(chattext.Slack(body), "\n"), "\n")
	if len(lines) < 4 || lines[1] != "```" || lines[len(lines)-2] != "```" {
		t.Fatalf("the body is not one code block between the title and the last line:\n%.300s\n...\n%s", text, lines[len(lines)-1])
	}
	kept := lines[2 : len(lines)-2]
	for i, l := range kept {
		if i >= len(all) || l != all[i] {
			t.Fatalf("line %d of the code block %q is not line %d of the body", i+1, l, i+1)
		}
	}
	if len(kept) == 0 || len(text) < report.MaxText*9/10 {
		t.Errorf("%d lines kept in %d bytes: the room is not used", len(kept), len(text))
	}
	if want := fmt.Sprintf("… %d more lines: `%s`", len(all)-len(kept), more); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
}

// TestWebhookCutsALongBodyAtALineBoundary: a body whose escaped text is
// over MaxText is cut after its last whole line that fits (never inside
// an entity such as "&lt;"), and the message ends with how many lines were
// left out and where to read them; a body that fits is posted whole.
func TestWebhookCutsALongBodyAtALineBoundary(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "    vm web-%04d <!here> FAILURE\n      error: HTTP 502 <https://x.example/%d|y> & more\n", i, i)
	}
	tests := map[string]struct {
		body string
		cut  bool
	}{
		"long": {b.String(), true}, "small": {"vm web <x> & y FAILURE\n", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			sl := &slack{}
			srv := httptest.NewServer(sl)
			defer srv.Close()
			m := report.Message{Title: "xbr backup run big/nightly: FAILURE", Body: tt.body, More: "xbr history --run r1"}
			if err := (report.Webhook{URL: srv.URL}).Post(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			text := posted(t, sl)
			if !tt.cut {
				if want := m.Title + "\n```\n" + chattext.Slack(m.Body) + "```"; text != want {
					t.Errorf("text %q, want %q", text, want)
				}
				return
			}
			checkCut(t, text, m.Title, m.Body, m.More)
		})
	}
}

// TestReportOfARunOver3000VMsFitsAChatMessage: the report of a run over
// 3,000 VMs, each failed with an error, is one chat message: its title
// (the run failed), as many lines of its tree as fit, and the command that
// shows the whole run.
func TestReportOfARunOver3000VMsFitsAChatMessage(t *testing.T) {
	sl := &slack{}
	hook := httptest.NewServer(sl)
	defer hook.Close()
	cfg := &config.Config{Jobs: []config.Job{{Name: "big", ReportWhen: config.ReportFailure,
		ReportWebhook: config.NewSecret(hook.URL + "/services/T/B/X")}}}
	p := events.RunCompleted{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f002", Job: "big", Schedule: "nightly", Status: "failure", DurationMS: 3600000}
	for i := range 3000 {
		p.Results = append(p.Results, events.VMResult{VMUUID: fmt.Sprintf("6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c%04d", i),
			VMName: fmt.Sprintf("web-%04d", i), Status: "failure", Error: "export: HTTP 502 <html> & no space left on device"})
	}
	m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("big-run", p.RunID), Source: "/test", Time: time.Now().UTC()}, p)
	if err != nil {
		t.Fatal(err)
	}
	ev := testsupport.Deliver(t, m, 1, 5)
	if _, err := (&report.Reporter{Job: cfg.Job}).Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	proj := history.New(history.Options{})
	proj.Apply(ev.Received)
	run, _ := proj.Run(p.RunID)
	if title := report.Title(run); !strings.HasPrefix(title, "xbr backup run big/nightly: FAILURE (3000 failure of 3000 VMs)") {
		t.Fatalf("title %q", title)
	}
	checkCut(t, posted(t, sl), report.Title(run), report.Tree(run), "xbr history --run "+p.RunID)
}

// TestDailyReportOfManyVMsFitsAChatMessage: the daily report of 3,000 late
// VMs is one chat message, ending with the command that lists them all.
func TestDailyReportOfManyVMsFitsAChatMessage(t *testing.T) {
	var vms []events.ProtectionVM
	for i := range 3000 {
		vms = append(vms, events.ProtectionVM{Pool: "lab", UUID: fmt.Sprint(i), Name: fmt.Sprintf("db-%04d <&>", i),
			State: events.ProtectionLate, AgeSeconds: 100000, Reason: "job nightly: no success within its RPO 26h0m0s"})
	}
	sl := &slack{}
	hook := httptest.NewServer(sl)
	defer hook.Close()
	d, _ := dailyAt8(t, config.ReportAlways, vms)
	d.Post = report.Webhook{URL: hook.URL}.Post
	eight := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
	for _, at := range []time.Time{eight.Add(-time.Minute), eight.Add(time.Second)} {
		if err := d.Tick(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	title, _ := report.DailyTitle(vms, eight)
	checkCut(t, posted(t, sl), title, report.ProtectionText(vms), "xbr protection --state missing,failing,late,unprotected")
}
