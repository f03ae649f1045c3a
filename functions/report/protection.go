package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/events"
)

// attention are the states a report lists VM by VM.
var attention = []string{events.ProtectionMissing, events.ProtectionFailing, events.ProtectionLate,
	events.ProtectionUnprotected}

// ProtectionText is the protection section of a report: one line of counts,
// then every missing, failing, late and unprotected VM with its reason,
// worst first (vms as shared/protection orders them). No VM is listed when
// all are ok or excluded.
func ProtectionText(vms []events.ProtectionVM) string {
	counts := map[string]int{}
	for _, v := range vms {
		counts[v.State]++
	}
	var parts []string
	for _, s := range events.ProtectionStates() {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Protection: %d VMs", len(vms))
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	for _, v := range vms {
		if !slices.Contains(attention, v.State) {
			continue
		}
		name := v.Name
		if name == "" {
			name = v.UUID
		}
		fmt.Fprintf(&b, "- %s %s (%s)%s: %s\n", v.State, name, orPool(v.Pool), age(v.AgeSeconds), v.Reason)
	}
	return b.String()
}

func orPool(p string) string {
	if p == "" {
		return "no pool"
	}
	return "pool " + p
}

func age(s int64) string {
	if s < 0 {
		return ", never copied"
	}
	return ", newest copy " + (time.Duration(s) * time.Second).String() + " old"
}
