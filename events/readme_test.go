package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"xbr/events"
)

var update = flag.Bool("update", false, "rewrite the generated part of README.md")

const (
	beginMark = "<!-- BEGIN GENERATED: go test ./events -run TestREADME -update -->\n"
	endMark   = "<!-- END GENERATED -->\n"
)

// TestREADME keeps the type list of README.md in step with the code.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok1 := strings.Cut(string(readme), beginMark)
	old, tail, ok2 := strings.Cut(rest, endMark)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the %q / %q markers", beginMark, endMark)
	}
	gen := generateTypeDocs(t)
	if *update {
		if err := os.WriteFile("README.md", []byte(head+beginMark+gen+endMark+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if old != gen {
		t.Errorf("README.md is stale; run: go test ./events -run TestREADME -update")
	}
}

func generateTypeDocs(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| type | subject | stream | meaning |\n|---|---|---|---|\n")
	for _, p := range examples() {
		ty := p.EventType()
		fmt.Fprintf(&b, "| [`%s`](#%s) | `%s` | %s | %s |\n", ty, strings.ReplaceAll(string(ty), ".", ""),
			subjectPattern(t, p), events.StreamNames{}.For(ty), ty.Description())
	}
	for _, p := range examples() {
		b.WriteString(exampleDoc(t, p))
	}
	return b.String()
}

// subjectPattern renders the subject with each key replaced by its field name.
func subjectPattern(t *testing.T, p events.Payload) string {
	var fields map[string]any
	raw, _ := json.Marshal(p)
	_ = json.Unmarshal(raw, &fields)
	var keys []string
	for _, k := range p.SubjectKeys() {
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			if fields[name] == k && name != "vm_name" {
				k = "<" + name + ">"
				break
			}
		}
		keys = append(keys, k)
	}
	return events.Subjects{}.For(p.EventType())[:len(events.Subjects{}.For(p.EventType()))-1] + strings.Join(keys, ".")
}

func exampleDoc(t *testing.T, p events.Payload) string {
	m := exampleMessage(t, p)
	h, data, err := events.Encode(m.Event)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, data, "", "  ")
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s\n\n%s Schema: [`schema/%s.json`](schema/%s.json).\n\n```\n", p.EventType(),
		p.EventType().Description(), p.EventType(), p.EventType())
	fmt.Fprintf(&b, "subject: %s\n", m.Subject)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Fprintf(&b, "%s: %s\n", k, h[k][0])
	}
	fmt.Fprintf(&b, "\n%s\n```\n", pretty.String())
	return b.String()
}
