package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"xbr/shared/testsupport"
)

// alertRulesMarker precedes the rule file in docs/operations.md.
const alertRulesMarker = "<!-- alert rules: checked by tests/alert_rules_test.go -->"

// ruleFile is the shape of a Prometheus rule file, read strictly.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertRulesInTheDocs: the protection alert rules in docs/operations.md
// are a valid rule file on the metrics the gateway exports.
func TestAlertRulesInTheDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t, string(doc))
	dec := yaml.NewDecoder(strings.NewReader(rules))
	dec.KnownFields(true)
	var f ruleFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("the alert rules are not a rule file: %v\n%s", err, rules)
	}
	alerts := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("group %s: rule %q lacks its alert, expr, severity or summary", g.Name, r.Alert)
			}
			alerts[r.Alert] = r.Expr
		}
	}
	for alert, metric := range map[string]string{"XbrVMLate": `xbr_vm_protection_state{state="late"}`,
		"XbrVMUnprotected": "xbr_vm_protection_state", "XbrVMFailing": `state="failing"`} {
		if !strings.Contains(alerts[alert], metric) {
			t.Errorf("alert %s: expr %q does not use %s", alert, alerts[alert], metric)
		}
	}
}

// TestAlertRulesPassPromtool: Prometheus's own checker accepts the rule file
// (promtool from Debian's prometheus package; make tools unpacks it into
// $XBR_TOOLS/bin).
func TestAlertRulesPassPromtool(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	promtool := filepath.Join(os.Getenv("XBR_TOOLS"), "bin", "promtool")
	if _, err := os.Stat(promtool); os.Getenv("XBR_TOOLS") == "" || err != nil {
		if promtool, err = exec.LookPath("promtool"); err != nil {
			testsupport.Missing(t, "promtool: not in $XBR_TOOLS/bin nor on PATH (make tools installs it)")
			return
		}
	}
	path := writeFile(t, "xbr-rules.yaml", alertRules(t, string(doc)))
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// alertRules is the fenced yaml block after the marker.
func alertRules(t *testing.T, doc string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, alertRulesMarker)
	if !ok {
		t.Fatalf("docs/operations.md lacks the marker %q", alertRulesMarker)
	}
	_, body, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("no ```yaml block after the alert rules marker")
	}
	body, _, ok = strings.Cut(body, "```")
	if !ok {
		t.Fatal("the alert rules block is not closed")
	}
	return body
}
