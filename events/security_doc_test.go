package events_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

// TestSecurityDocNamesTheRestoreRequesters: docs/security.md, which a
// backbone's admin reads to judge what a stolen identity can do, names the
// identities that may publish restore requests; the grants are derived from
// events.Roles, which must name the same (it once said "only gateway and
// client", while healthcheck may publish them too).
func TestSecurityDocNamesTheRestoreRequesters(t *testing.T) {
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	const claim = "only `gateway`,\n`client` and `healthcheck` (for its test VM, with any backup, pool and start) publish restore requests"
	claimed := []string{"gateway", "healthcheck", events.IdentityClient}
	got := events.Producers(events.TypeRestoreRequested)
	if !strings.Contains(string(doc), claim) || !slices.Equal(got, claimed) {
		t.Errorf("docs/security.md says only %v publish restore requests; the grants let %v publish %s",
			claimed, got, events.TypeRestoreRequested)
	}
}
