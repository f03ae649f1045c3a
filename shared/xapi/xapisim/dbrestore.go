package xapisim

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// serveDBRestore answers PUT /pool/xmldbdump[?dry_run=true]: the upload
// must have a Content-Length (else 400, as XAPI), then it is read and
// checked (a <database> with a manifest naming a schema version, and
// tables of rows with a ref); the outcome is the task's. An accepted
// upload is recorded (DBRestores) and the simulator goes on with its own
// state.
func (s *Server) serveDBRestore(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w, "put_pool_xml_db_sync")
		return
	}
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		httpError(w, http.StatusBadRequest, "Bad Request", "")
		return
	}
	task, err := s.transferTask(r, "Reading database as XML")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	x, err := s.hijack(w, fmt.Sprintf(importHead, task))
	if err != nil {
		s.failTask(task, err)
		return
	}
	defer x.conn.Close()
	cr := &countReader{r: io.LimitReader(x.rw.Reader, r.ContentLength)}
	tables, rows, err := checkDump(cr)
	if err == nil && cr.n != r.ContentLength {
		err = fmt.Errorf("database upload ended after %d of %d bytes", cr.n, r.ContentLength)
	}
	if err != nil {
		s.failTask(task, fail("RESTORE_INCOMPATIBLE_VERSION", err.Error()))
		return
	}
	s.mu.Lock()
	s.restores = append(s.restores, DBRestore{DryRun: r.URL.Query().Get("dry_run") == "true",
		Bytes: cr.n, Tables: tables, Rows: rows})
	s.mu.Unlock()
	s.completeTask(task, "")
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// checkDump reads a database dump to its end and counts its tables and rows.
func checkDump(r io.Reader) (tables, rows int, err error) {
	dec := xml.NewDecoder(r)
	var root, manifest bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("not a database dump: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "database":
			root = true
		case "pair":
			manifest = manifest || attr(se, "key") == "schema_major_vsn"
		case "table":
			tables++
		case "row":
			if attr(se, "ref") == "" {
				return 0, 0, errors.New("a row has no ref")
			}
			rows++
		}
	}
	if !root || !manifest {
		return 0, 0, errors.New("not a database dump: no <database> with a schema version in its manifest")
	}
	return tables, rows, nil
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
