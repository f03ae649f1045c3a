package events_test

import (
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

// TestRolesKeepTheTrustEdges pins the rules of issue 12: who may order
// work, and that the auditor and the functions cannot touch the streams,
// KV buckets' included (a stream's configuration may republish anywhere).
func TestRolesKeepTheTrustEdges(t *testing.T) {
	for ty, want := range map[events.Type][]string{
		events.TypeScheduleDue:      {"timer", "gateway", "client"},
		events.TypeRestoreRequested: {"gateway", "healthcheck", "client"}, // healthcheck: the test VM of a health check
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
			if g.Identity != events.IdentityAdmin && (strings.Contains(p, "STREAM.CREATE.") || strings.Contains(p, "STREAM.UPDATE.")) {
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
	var asks []string
	for _, p := range auditor.Grant(s, events.StreamNames{}).Publish {
		if strings.HasPrefix(p, "acme.backup.") {
			e, ok := events.EndpointOf(strings.TrimPrefix(p, "acme.backup.api."))
			if !ok || e.Writes || e.Subject(s) != p {
				t.Errorf("the auditor may publish %s", p)
			}
			asks = append(asks, p)
		}
	}
	if !slices.Contains(asks, events.QueryJobs.Subject(s)) || slices.Contains(asks, "acme.backup.api.verify") {
		t.Errorf("the auditor may call %v, want the read-only queries (jobs, not verify)", asks)
	}
}

// TestQueryGrants: the functions answer the queries and the micro discovery
// subjects; the client and the gateway call every query and discovery.
func TestQueryGrants(t *testing.T) {
	s, _ := events.NewSubjects("acme.backup")
	for _, name := range []string{"export", "replicate", "gateway"} {
		r, _ := events.RoleOf(name)
		g := r.Grant(s, events.StreamNames{})
		if !slices.Contains(g.Subscribe, "acme.backup.api.> "+events.APIQueue) || !slices.Contains(g.Subscribe, "$SRV.>") || !g.AllowResponses {
			t.Errorf("%s subscribes %v (allow_responses %v), want the queries in the queue group and $SRV.>", name, g.Subscribe, g.AllowResponses)
		}
	}
	for _, name := range []string{events.IdentityClient, "gateway", events.IdentityAuditor} {
		r, _ := events.RoleOf(name)
		g := r.Grant(s, events.StreamNames{})
		for _, want := range []string{"$SRV.PING", "$SRV.INFO." + events.ServiceName, "$SRV.STATS." + events.ServiceName + ".*"} {
			if !slices.Contains(g.Publish, want) {
				t.Errorf("%s may not publish %s", name, want)
			}
		}
	}
	for _, name := range []string{events.IdentityClient, "gateway"} {
		r, _ := events.RoleOf(name)
		if g := r.Grant(s, events.StreamNames{}); !slices.Contains(g.Publish, "acme.backup.api.>") {
			t.Errorf("%s may not call the queries: %v", name, g.Publish)
		}
	}
}

// TestQueriesAreTyped: every endpoint has a name micro accepts, and the
// typed queries name their endpoints.
func TestQueriesAreTyped(t *testing.T) {
	for _, e := range events.Endpoints() {
		for _, r := range e.MicroName() {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("endpoint %s: micro name %q has %q", e.Name, e.MicroName(), r)
			}
		}
	}
	if events.QueryDRList.MicroName() != "dr-ls" || events.QueryJobs.Name != events.QueryNameJobs {
		t.Errorf("dr.ls is %q, jobs is %q", events.QueryDRList.MicroName(), events.QueryJobs.Name)
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
