package xapisim

import (
	"strings"
	"testing"
)

func FuzzCheckDump(f *testing.F) {
	f.Add(`<?xml version="1.0"?><database><manifest><pair key="schema_major_vsn" value="5"/></manifest><table name="VM"><row ref="OpaqueRef:1"/></table></database>`)
	f.Add(`<database><table><row/></table></database>`)
	f.Add(`<a>`)
	f.Fuzz(func(t *testing.T, s string) {
		tables, rows, err := checkDump(strings.NewReader(s))
		if err == nil && (tables < 0 || rows < 0 || !strings.Contains(s, "database")) {
			t.Fatalf("accepted %q with %d tables, %d rows", s, tables, rows)
		}
	})
}
