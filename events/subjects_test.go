package events_test

import (
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

func TestSubjects(t *testing.T) {
	def := events.Subjects{}
	acme, err := events.NewSubjects("acme.backup")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"export completed", def.Of(events.ExportCompleted{Job: "nightly", VMUUID: exVM}), "xbr.export.completed.nightly." + exVM},
		{"restore requested", def.Of(events.RestoreRequested{RequestID: "r-1"}), "xbr.restore.requested.r-1"},
		{"schedule due", def.Of(events.ScheduleDue{Mode: "full", Job: "nightly", Schedule: "daily"}), "xbr.schedule.due.full.nightly.daily"},
		{"fires of a mode", acme.FilterKeys(events.TypeScheduleDue, "replicate"), "acme.backup.schedule.due.replicate.>"},
		{"filter without keys", def.FilterKeys(events.TypeScheduleDue), "xbr.schedule.due.>"},
		{"run", def.Of(events.RunCompleted{Job: "nightly", RunID: "abc"}), "xbr.run.completed.nightly.abc"},
		{"verify", def.Of(events.VerifyFailed{Remote: "nfs", VMUUID: exVM}), "xbr.verify.failed.nfs." + exVM},
		{"sanitised keys", def.For(events.TypeExportStarted, "my job.v2", "a*b>c"), "xbr.export.started.my_job_v2.a_b_c"},
		{"empty key", def.For(events.TypeExportStarted, ""), "xbr.export.started._"},
		{"no key", def.For(events.TypeExportStarted), "xbr.export.started._"},
		{"prefix", acme.Of(events.RestoreRequested{RequestID: "r-1"}), "acme.backup.restore.requested.r-1"},
		{"dlq", def.DLQ("export"), "xbr.dlq.export"},
		{"dlq sanitised", acme.DLQ("ex port"), "acme.backup.dlq.ex_port"},
		{"filter", def.Filter(events.TypeExportRequested), "xbr.export.requested.>"},
		{"dlq filter", acme.DLQFilter(), "acme.backup.dlq.>"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestNewSubjectsRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"xbr.", ".xbr", "x br", "xbr.*", "xbr.>", "a..b", "tab\t"} {
		if _, err := events.NewSubjects(p); err == nil || !strings.Contains(err.Error(), "subject prefix") {
			t.Errorf("NewSubjects(%q) = %v, want an error naming the prefix", p, err)
		}
	}
	s, err := events.NewSubjects("")
	if err != nil || s.Prefix() != events.DefaultPrefix {
		t.Errorf("empty prefix: %q, %v", s.Prefix(), err)
	}
}

func TestToken(t *testing.T) {
	tests := map[string]string{"nightly": "nightly", "a.b": "a_b", "a b": "a_b", "*": "_", ">": "_",
		"": "_", "é-ok": "é-ok", "x\x00y": "x_y", "new\nline": "new_line"}
	for in, want := range tests {
		if got := events.Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
		if err := events.ValidToken(events.Token(in)); err != nil {
			t.Errorf("Token(%q) is not valid: %v", in, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a*", "a>", "a b"} {
		if events.ValidToken(bad) == nil {
			t.Errorf("ValidToken(%q) accepted", bad)
		}
	}
}

func TestStreamFiltersSplitLifecycleAndProgress(t *testing.T) {
	s := events.Subjects{}
	life, prog := s.LifecycleFilters(), s.ProgressFilters()
	if len(life)+len(prog) != len(events.Types()) || len(prog) != 4 {
		t.Fatalf("%d lifecycle + %d progress filters for %d types", len(life), len(prog), len(events.Types()))
	}
	for _, p := range prog {
		if slices.Contains(life, p) || !strings.Contains(p, ".progress.") {
			t.Errorf("progress filter %q misplaced", p)
		}
	}
	names := events.StreamNames{Events: "AUDIT"}.WithDefaults()
	if names.For(events.TypeExportProgress) != events.DefaultProgressStream || names.For(events.TypeExportCompleted) != "AUDIT" ||
		names.DLQ != events.DefaultDLQStream {
		t.Errorf("stream names: %+v", names)
	}
}

func TestDeriveID(t *testing.T) {
	a := events.DeriveID("nightly", "daily", "2026-11-29T01:00:00Z")
	if a != events.DeriveID("nightly", "daily", "2026-11-29T01:00:00Z") {
		t.Error("DeriveID is not deterministic")
	}
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("DeriveID = %q, want 32 hex digits", a)
	}
	distinct := [][]string{{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {}}
	seen := map[string]bool{}
	for _, parts := range distinct {
		id := events.DeriveID(parts...)
		if seen[id] {
			t.Errorf("DeriveID(%q) collides", parts)
		}
		seen[id] = true
	}
}

func TestCarries(t *testing.T) {
	acme, err := events.NewSubjects("acme.backup")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s       events.Subjects
		subject string
		typ     events.Type
		want    bool
	}{
		{events.Subjects{}, "xbr.export.requested.nightly.vm", events.TypeExportRequested, true},
		{events.Subjects{}, "xbr.export.requested.nightly.vm", events.TypeExportCompleted, false},
		{events.Subjects{}, "xbr.schedule.due.full.export.completed", events.TypeExportCompleted, false},
		{events.Subjects{}, "xbr.export.requestedx.a", events.TypeExportRequested, false},
		{acme, "acme.backup.export.requested.a", events.TypeExportRequested, true},
		{acme, "xbr.export.requested.a", events.TypeExportRequested, false},
	} {
		if got := tc.s.Carries(tc.subject, tc.typ); got != tc.want {
			t.Errorf("%s.Carries(%q, %s) = %v, want %v", tc.s.Prefix(), tc.subject, tc.typ, got, tc.want)
		}
	}
}
