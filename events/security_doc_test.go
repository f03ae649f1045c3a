package events_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

// TestSecurityDocNamesTheRestoreRequesters: docs/security.md, which a
// backbone's admin reads to judge what a stolen identity can do, says
// "only `gateway` and `client` publish restore requests". The grants are
// derived from events.Roles, which lets the healthcheck identity publish
// xbr.restore.requested too (any backup, any pool, start included): the
// document and the grants must say the same.
func TestSecurityDocNamesTheRestoreRequesters(t *testing.T) {
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	const claim = "only `gateway` and\n`client` publish restore requests"
	claimed := []string{"gateway", events.IdentityClient}
	got := events.Producers(events.TypeRestoreRequested)
	if strings.Contains(string(doc), claim) && !slices.Equal(got, claimed) {
		t.Errorf("docs/security.md says only %v publish restore requests; the grants let %v publish %s",
			claimed, got, events.TypeRestoreRequested)
	}
}
