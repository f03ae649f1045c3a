package events_test

import (
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

// TestRolesKeepTheTrustEdges pins the rules of issue 12: who may order
// work, and that the auditor and the functions cannot touch the streams.
func TestRolesKeepTheTrustEdges(t *testing.T) {
	for ty, want := range map[events.Type][]string{
		events.TypeScheduleDue:      {"timer", "gateway", "client"},
		events.TypeRestoreRequested: {"gateway", "client"},
	} {
		if got := events.Producers(ty); !slices.Equal(got, want) {
			t.Errorf("%s producers = %v, want %v", ty, got, want)
		}
	}
	for _, ty := range events.Types() {
		if len(events.Producers(ty)) == 0 {
			t.Errorf("%s has no producer", ty)
		}
	}
	s, _ := events.NewSubjects("acme.backup")
	for _, g := range events.Grants(s, events.StreamNames{}) {
		for _, p := range g.Publish {
			if g.Identity != events.IdentityAdmin && (strings.Contains(p, "STREAM.CREATE.XBR") || strings.Contains(p, "STREAM.UPDATE.XBR")) {
				t.Errorf("%s may %s", g.Identity, p)
			}
			for _, bad := range []string{"PURGE", "STREAM.DELETE", "MSG.DELETE", "$JS.API.>", "acme.backup.>", ">"} {
				if p == bad || (bad != ">" && bad != "acme.backup.>" && strings.Contains(p, bad)) {
					t.Errorf("%s may publish %s", g.Identity, p)
				}
			}
		}
	}
	auditor, _ := events.RoleOf(events.IdentityAuditor)
	for _, p := range auditor.Grant(s, events.StreamNames{}).Publish {
		if strings.HasPrefix(p, "acme.backup.") {
			t.Errorf("the auditor may publish %s", p)
		}
	}
}

func TestAllowedSource(t *testing.T) {
	for _, c := range []struct {
		ty     events.Type
		source string
		ok     bool
	}{
		{events.TypeRestoreRequested, events.Source("gateway"), true},
		{events.TypeRestoreRequested, events.Source("cli"), true},
		{events.TypeRestoreRequested, events.Source("export"), false},
		{events.TypeRestoreRequested, "/xbr/client", false},
		{events.TypeScheduleDue, events.Source("restore"), false},
		{events.TypeExportCompleted, events.Source("export"), true},
		{events.TypeRunCompleted, events.Source("report"), false},
	} {
		if got := events.AllowedSource(c.ty, c.source); got != c.ok {
			t.Errorf("AllowedSource(%s, %s) = %v, want %v", c.ty, c.source, got, c.ok)
		}
	}
}
