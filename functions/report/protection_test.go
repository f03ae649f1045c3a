package report_test

import (
	"testing"

	"xbr/events"
	"xbr/functions/report"
)

func TestProtectionTextListsWhatNeedsAttention(t *testing.T) {
	vms := []events.ProtectionVM{
		{UUID: "eeee", State: events.ProtectionMissing, AgeSeconds: -1, Reason: "named by job nightly; no VM with this uuid in pools lab"},
		{Pool: "lab", UUID: "bbbb", Name: "db", State: events.ProtectionFailing, AgeSeconds: 90000, Reason: "job nightly: last attempt failed"},
		{Pool: "lab", UUID: "cccc", Name: "scratch", State: events.ProtectionUnprotected, AgeSeconds: -1, Reason: "no backup, snapshot or replicate job selects it"},
		{Pool: "lab", UUID: "aaaa", Name: "web", State: events.ProtectionOK, AgeSeconds: 3600},
		{Pool: "lab", UUID: "dddd", Name: "tmp", State: events.ProtectionExcluded, AgeSeconds: -1, Reason: "tagged xo:no-bak"},
	}
	want := "Protection: 5 VMs: 1 missing, 1 failing, 1 unprotected, 1 ok, 1 excluded\n" +
		"- missing eeee (no pool), never copied: named by job nightly; no VM with this uuid in pools lab\n" +
		"- failing db (pool lab), newest copy 25h0m0s old: job nightly: last attempt failed\n" +
		"- unprotected scratch (pool lab), never copied: no backup, snapshot or replicate job selects it\n"
	if got := report.ProtectionText(vms); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := report.ProtectionText(vms[3:4]); got != "Protection: 1 VMs: 1 ok\n" {
		t.Errorf("all ok: %q", got)
	}
}
