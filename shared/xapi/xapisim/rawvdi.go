package xapisim

import (
	"fmt"
	"io"
	"net/http"
)

const rawHead = "HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n" +
	"task-id:%s\r\ncontent-type:application/octet-stream\r\n" +
	"Content-Disposition: attachment; filename=\"%s.raw\"\r\n\r\n"

// serveExportRawVDI answers GET /export_raw_vdi?vdi=<ref|uuid>&format=raw
// with the VDI's full virtual_size bytes; other formats get 404.
func (s *Server) serveExportRawVDI(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w, "get_export_raw_vdi")
		return
	}
	q := r.URL.Query()
	// The VDI's SR decides the host (xen-api ocaml/xapi/export_raw_vdi.ml
	// export_raw: check_sr_availability, else 302 to find_host_for_sr).
	target, herr := s.transferHost(r, func() ([]string, bool) {
		vdi, err := s.st.byRefOrUUID("VDI", q.Get("vdi"))
		if err != nil {
			return nil, false
		}
		return []string{vdi.str("SR")}, true
	})
	if target != "" {
		s.redirect(w, r, target)
		return
	}
	if herr != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	task, err := s.transferTask(r, "export_raw_vdi")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	if f := q.Get("format"); f != "" && f != "raw" {
		s.failTask(task, fail("INTERNAL_ERROR", "Unknown format "+f))
		httpError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	uuid, k, err := s.rawContent(q.Get("vdi"))
	if err != nil {
		s.failBeforeHeaders(w, task, err)
		return
	}
	if s.stallHead(r) {
		s.failTask(task, errStalled)
		return
	}
	x, err := s.hijack(w, fmt.Sprintf(rawHead, task, uuid))
	if err != nil {
		s.failTask(task, err)
		return
	}
	ctx, done := s.startWork(r.Context(), task)
	defer done()
	cw := &connWriter{ctx: ctx, conn: x.conn, lim: limiter(x.faults), drop: x.faults.DropAfter,
		stall: x.faults.StallAfter, count: s.counter("export_raw_vdi")}
	pr := &progressReader{ctx: ctx, r: k.reader(), report: func(n int64) {
		s.setProgress(task, float64(n)/float64(max(k.size, 1)))
	}}
	if _, err := io.CopyBuffer(cw, pr, make([]byte, blockSize)); err != nil {
		s.failTask(task, err)
		abort(x.conn)
		return
	}
	_ = x.conn.Close()
	s.completeTask(task, "")
}

// rawContent finds the VDI named by ref or uuid and its content; a
// cbt_metadata VDI has none to export.
func (s *Server) rawContent(id string) (string, *disk, error) {
	s.st.mu.Lock()
	vdi, err := s.st.byRefOrUUID("VDI", id)
	var uuid, ref string
	if err == nil {
		uuid, ref = vdi.str("uuid"), vdi.ref
		err = refuseMetadata(vdi)
	}
	s.st.mu.Unlock()
	if err != nil {
		return "", nil, err
	}
	k, ok := s.disks.get(ref)
	if !ok {
		return "", nil, fail("VDI_IO_ERROR", "no content for VDI "+uuid)
	}
	return uuid, k, nil
}
