package events_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"xbr/events"
)

const (
	rolesBegin = "<!-- BEGIN GENERATED ROLES: go test ./events -run TestREADMERoles -update -->\n"
	rolesEnd   = "<!-- END GENERATED ROLES -->\n"
)

// TestREADMERoles keeps the permission table of README.md in step with
// events.Roles.
func TestREADMERoles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok1 := strings.Cut(string(readme), rolesBegin)
	old, tail, ok2 := strings.Cut(rest, rolesEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the %q / %q markers", rolesBegin, rolesEnd)
	}
	gen := rolesDoc()
	if *update {
		if err := os.WriteFile("README.md", []byte(head+rolesBegin+gen+rolesEnd+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if old != gen {
		t.Errorf("README.md is stale; run: go test ./events -run TestREADMERoles -update")
	}
}

func rolesDoc() string {
	var b strings.Builder
	b.WriteString("| type | may publish (NATS user `xbr-<identity>`) | consumed by |\n|---|---|---|\n")
	for _, ty := range events.Types() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", ty, names(events.Producers(ty)), names(consumers(ty)))
	}
	b.WriteString("\n| identity | source | durable consumers | KV buckets it reads and writes | also |\n|---|---|---|---|---|\n")
	for _, r := range events.Roles() {
		r, _ = events.RoleOf(r.Name)
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Name, code(r.Source), names(r.Durables), names(r.Buckets), also(r))
	}
	b.WriteString("\nQueries: every function answers `<prefix>.api.<query>` as the NATS micro service `" + events.ServiceName +
		"` in the queue group `" + events.APIQueue + "` (NATS `allow_responses`), and its discovery subjects `$SRV.>`; " +
		"`client` and `gateway` may call every query, the `auditor` those that change nothing (" + readOnly() +
		"), and all three `$SRV.PING|INFO|STATS[." + events.ServiceName + "[.<id>]]`. Replies come back on `_INBOX.>`.\n")
	return b.String()
}

func readOnly() string {
	var out []string
	for _, e := range events.Endpoints() {
		if !e.Writes {
			out = append(out, e.Name)
		}
	}
	return names(out)
}

func consumers(t events.Type) []string {
	var out []string
	for _, r := range events.Roles() {
		for _, c := range r.Consumes {
			if c == t {
				out = append(out, r.Name)
				break
			}
		}
	}
	return out
}

func also(r events.Role) string {
	var out []string
	for _, f := range []struct {
		on   bool
		what string
	}{{r.Reads, "reads the streams with its own consumers"}, {r.Answers, "answers the queries"},
		{r.Calls, "calls the queries"}, {r.Asks, "calls the read-only queries"}, {r.Admin, "creates and updates the streams and the KV buckets"}} {
		if f.on {
			out = append(out, f.what)
		}
	}
	return strings.Join(out, "; ")
}

func names(list []string) string {
	if len(list) == 0 {
		return "—"
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}
