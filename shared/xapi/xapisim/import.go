package xapisim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"xbr/shared/xapi/xmlrpc"
	"xbr/shared/xva"
)

const importHead = "HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n" +
	"task-id:%s\r\ncontent-type: application/octet-stream\r\n\r\n"

// serveImport answers PUT /import[?sr_id=|sr_uuid=][&task_id=].
func (s *Server) serveImport(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w, "put_import")
		return
	}
	if s.CurrentFaults().StallImportError {
		s.stallImportError(w)
		return
	}
	// The SR is resolved and its host chosen before the task is taken or
	// any reply is written (xen-api ocaml/xapi/import.ml handler): sr_id is
	// taken as a ref as it is; an SR no host sees, such as an unknown ref,
	// fails choose_host with NO_HOSTS_AVAILABLE, which escapes as HTTP 500
	// and leaves the caller's task alone; another host's SR gets a 302.
	sr, err := s.importSR(r.URL.Query())
	if err == nil {
		var target string
		target, err = s.transferHost(r, func() ([]string, bool) { return []string{sr}, true })
		if target != "" && s.CurrentFaults().StallImportRedirect {
			s.stallImportRedirect(w, r, target)
			return
		}
		if target != "" {
			s.redirect(w, r, target)
			return
		}
	}
	if err != nil {
		internalError(w, err)
		return
	}
	task, err := s.transferTask(r, "VM import")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	// After the SR checks, any Transfer-Encoding gets 403 and fails the task
	// with IMPORT_ERROR_CANNOT_HANDLE_CHUNKED (import.ml handler,
	// with_error_handling).
	if len(r.TransferEncoding) > 0 {
		s.failTask(task, fail("IMPORT_ERROR_CANNOT_HANDLE_CHUNKED"))
		httpError(w, http.StatusForbidden, "Forbidden", "")
		return
	}
	if s.CurrentFaults().StallImportHead {
		s.stallImportHead(w, r, task)
		return
	}
	head, late := fmt.Sprintf(importHead, task), ""
	if s.CurrentFaults().StallAfterImport == ImportStallNoHead {
		head, late = "", head
	}
	x, err := s.hijack(w, head)
	if err != nil {
		s.failTask(task, err)
		return
	}
	defer x.conn.Close()
	if r.ContentLength == 0 { // npm xen-api's probe PUT
		s.failTask(task, fail("IMPORT_ERROR_PREMATURE_EOF"))
		return
	}
	s.receiveImport(r, x, task, sr, late)
}

// receiveImport imports the body of r under task. late is the answer head
// that ImportStallNoHead held back, written when the import has ended.
func (s *Server) receiveImport(r *http.Request, x *xfer, task, sr, late string) {
	// Not r.Context(): net/http cancels it when a read of the hijacked
	// connection hits EOF, and a body of unknown length ends exactly so (the
	// client's half-close). task.cancel and Close still cancel the work; a
	// client that aborts makes the body's read fail.
	ctx, done := s.startWork(context.WithoutCancel(r.Context()), task)
	defer done()
	var body io.Reader = x.rw.Reader
	if r.ContentLength > 0 {
		body = io.LimitReader(body, r.ContentLength)
	}
	body = &limitedReader{ctx: ctx, r: body, lim: limiter(x.faults), stall: x.faults.StallImport,
		count: s.counter("import")}
	vms, err := s.importXVA(ctx, task, sr, body, x.faults.StallAfterImport != NoImportStall)
	if late != "" {
		_, _ = x.rw.WriteString(late)
		_ = x.rw.Flush()
	}
	if err != nil {
		s.failTask(task, err)
		return
	}
	result, _ := xmlrpc.Marshal(vms)
	s.completeTask(task, string(result))
}

// importXVA reads an XVA and creates its VM; on failure nothing is left behind.
// With stall, it reads the archive to its end and then waits as
// Faults.StallAfterImport says before it finishes.
func (s *Server) importXVA(ctx context.Context, task, sr string, body io.Reader, stall bool) ([]string, error) {
	xr, err := xva.NewReader(body)
	if err != nil {
		return nil, importError(err)
	}
	defer xr.Close()
	imp, err := s.createImported(task, sr, xr.Header(), xr.Disks())
	if err != nil {
		return nil, err
	}
	err = s.receiveDisks(ctx, imp, xr)
	if err == nil && stall {
		err = s.stallAfterBody(ctx)
	}
	if err != nil {
		s.st.mu.Lock()
		imp.destroy(s)
		s.st.mu.Unlock()
		return nil, err
	}
	s.finishImport(imp, task)
	return imp.vmRefs(), nil
}

// stallAfterBody waits, writing nothing, until StallAfterImport is cleared
// or ctx ends (the task is cancelled, the simulator closes).
func (s *Server) stallAfterBody(ctx context.Context) error {
	for {
		changed := s.faultsChanged()
		if s.CurrentFaults().StallAfterImport == NoImportStall {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// receiveDisks stores each disk of the stream; a connection cut after the
// last disk is tolerated (a client that announced a huge Content-Length).
func (s *Server) receiveDisks(ctx context.Context, imp *imported, xr *xva.Reader) error {
	for i := 0; ; i++ {
		d, r, err := xr.NextDisk()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if i == len(imp.disks) {
				s.log.Debug("xapisim: import: stream cut after the last disk", "err", err)
				return nil
			}
			return importError(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		vdi := imp.disks[d.ID]
		fs, err := s.disks.writeSparse(r, d.Size)
		if err != nil {
			return importError(err)
		}
		s.disks.put(vdi, d.Size, fs)
		if i == len(imp.disks)-1 {
			s.st.mu.Lock()
			imp.complete = true
			s.st.mu.Unlock()
		}
	}
}

func importError(err error) error {
	var f *Failure
	if errors.As(err, &f) || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fail("IMPORT_ERROR_PREMATURE_EOF")
	}
	return fail("IMPORT_ERROR", err.Error())
}

// importSR resolves sr_id (a ref, unchecked: importexport.ml sr_of_req),
// sr_uuid (UUID_INVALID), or the pool's default SR (DEFAULT_SR_NOT_FOUND).
func (s *Server) importSR(q map[string][]string) (string, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if id := get("sr_id"); id != "" {
		return id, nil
	}
	if id := get("sr_uuid"); id != "" {
		o, err := s.st.byUUID("SR", id)
		if err != nil {
			return "", err
		}
		return o.ref, nil
	}
	pool, err := s.st.get("pool", s.pool)
	if err != nil {
		return "", err
	}
	if _, err := s.st.get("SR", pool.str("default_SR")); err != nil {
		return "", fail("DEFAULT_SR_NOT_FOUND", pool.str("default_SR"))
	}
	return pool.str("default_SR"), nil
}
