package xapisim

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The pool database dump (GET /pool/xmldbdump) and its restore
// (PUT /pool/xmldbdump), as xen-api's ocaml/xapi/pool_db_backup.ml serves
// them: pull_database_backup_handler writes the database as XML after a
// 200 without Content-Length; push_database_restore_handler needs a
// Content-Length (400 without), answers 200, reads that many bytes, and
// with dry_run=true only checks them.

const dumpHead = "HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n" +
	"task-id:%s\r\ncontent-type: application/octet-stream\r\n\r\n"

// dumpSchema is the schema version the manifest states (XCP-ng 8.3's).
const (
	dumpSchemaMajor = 5
	dumpSchemaMinor = 786
)

// DBRestore records one database upload the simulator accepted.
type DBRestore struct {
	DryRun bool
	Bytes  int64
	Tables int // tables in the uploaded database
	Rows   int // rows in the uploaded database
}

// DBRestores returns the database uploads accepted so far. The simulator
// checks an upload and records it; it does not replace its own state (a
// real XAPI would restart on the uploaded database).
func (s *Server) DBRestores() []DBRestore {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.restores)
}

// serveDBDump answers GET /pool/xmldbdump with the simulator's database:
// its persistent tables (tasks are not persistent, as in XAPI), tables and
// rows sorted, so that one state always gives the same bytes.
func (s *Server) serveDBDump(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w, "get_pool_xml_db_sync")
		return
	}
	task, err := s.transferTask(r, "Dumping database as XML")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	tables, gen := s.dumpTables()
	x, err := s.hijack(w, fmt.Sprintf(dumpHead, task))
	if err != nil {
		s.failTask(task, err)
		return
	}
	bw := bufio.NewWriter(x.conn)
	err = writeDump(bw, tables, gen)
	if err == nil {
		err = bw.Flush()
	}
	_ = x.conn.Close()
	if err != nil {
		s.failTask(task, err)
		return
	}
	s.completeTask(task, "")
}

// dumpTable is one table of the dump: rows of field -> XAPI string.
type dumpTable struct {
	name string
	rows []map[string]string
}

// dumpTables copies the persistent tables under the lock; gen is the
// highest modification generation among their rows.
func (s *Server) dumpTables() ([]dumpTable, uint64) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var gen uint64
	names := slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(classes), func(c string) bool { return c == "task" })))
	out := make([]dumpTable, 0, len(names))
	for _, class := range names {
		t := dumpTable{name: class}
		objs := slices.SortedFunc(maps.Values(s.st.byClass[class]), func(a, b *object) int { return strings.Compare(a.ref, b.ref) })
		for _, o := range objs {
			gen = max(gen, o.modified)
			row := map[string]string{"ref": o.ref}
			for k, v := range o.rec {
				row[dbColumn(k)] = dbString(v)
			}
			t.rows = append(t.rows, row)
		}
		out = append(out, t)
	}
	return out, gen
}

// writeDump writes tables as XAPI's Db_xml does: a manifest of pairs, then
// one <table> per class with one <row> per object, fields as attributes.
func writeDump(w io.Writer, tables []dumpTable, gen uint64) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><database><manifest>`)
	for _, p := range [][2]string{{"schema_major_vsn", strconv.Itoa(dumpSchemaMajor)},
		{"schema_minor_vsn", strconv.Itoa(dumpSchemaMinor)}, {"generation_count", strconv.FormatUint(gen, 10)}} {
		fmt.Fprintf(&b, `<pair key="%s" value="%s"/>`, p[0], p[1])
	}
	b.WriteString(`</manifest>`)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, t := range tables {
		if err := writeTable(w, t); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "</database>")
	return err
}

func writeTable(w io.Writer, t dumpTable) error {
	if _, err := fmt.Fprintf(w, `<table name="%s">`, t.name); err != nil {
		return err
	}
	for _, row := range t.rows {
		var b strings.Builder
		b.WriteString("<row")
		for _, k := range slices.Sorted(maps.Keys(row)) {
			b.WriteString(" " + k + `="`)
			_ = xml.EscapeText(&b, []byte(row[k]))
			b.WriteString(`"`)
		}
		b.WriteString("/>")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "</table>")
	return err
}

// dbString is a field as XAPI's database stores it: sets as ('a' 'b'),
// maps as (('k' 'v')), dates as 20060102T15:04:05Z.
func dbString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = "'" + s + "'"
		}
		return "(" + strings.Join(parts, " ") + ")"
	case map[string]string:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, "('"+k+"' '"+x[k]+"')")
		}
		return "(" + strings.Join(parts, " ") + ")"
	case []int64:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = "'" + strconv.FormatInt(n, 10) + "'"
		}
		return "(" + strings.Join(parts, " ") + ")"
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("20060102T15:04:05Z")
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// dbColumn is a field's column in XAPI's database: the API's name_label and
// name_description are the datamodel's name.label and name.description,
// whose dots the database writes as "__".
func dbColumn(field string) string {
	if field == "name_label" || field == "name_description" {
		return "name__" + strings.TrimPrefix(field, "name_")
	}
	return strings.ReplaceAll(field, ".", "__")
}
