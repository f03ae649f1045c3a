package cli_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestNATSPermissionsJSON(t *testing.T) {
	code, out, errOut := run(t, "nats", "permissions", "--format", "json", "--prefix", "acme.backup")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var grants []struct {
		User, Identity     string
		Publish, Subscribe []string
	}
	if err := json.Unmarshal([]byte(out), &grants); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	byID := map[string][]string{}
	for _, g := range grants {
		byID[g.Identity] = g.Publish
		if g.User != "xbr-"+g.Identity {
			t.Errorf("user %q for identity %q", g.User, g.Identity)
		}
	}
	if !slices.Contains(byID["export"], "acme.backup.export.completed.>") || slices.Contains(byID["export"], "acme.backup.restore.requested.>") {
		t.Errorf("export may publish %v", byID["export"])
	}
	if !slices.Contains(byID["gateway"], "acme.backup.restore.requested.>") {
		t.Errorf("gateway may publish %v", byID["gateway"])
	}
}

func TestNATSPermissionsRefusesAnUnknownFormat(t *testing.T) {
	code, _, errOut := run(t, "nats", "permissions", "--format", "yaml")
	if code != 2 || !strings.Contains(errOut, `--format "yaml": must be nats-server or json`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
