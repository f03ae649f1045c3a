package xapisim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	"xbr/shared/compress"
	"xbr/shared/xva"
)

const exportHead = "HTTP/1.0 200 OK\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n" +
	"task-id: %s\r\nServer: xapi/%d.%d\r\ncontent-type: application/octet-stream\r\n" +
	"Content-Disposition: attachment; filename=\"export.xva\"\r\n\r\n"

// exportDisk is one disk to stream: its export id and its content.
type exportDisk struct {
	id   string
	disk *disk
}

// serveExport answers GET /export?ref=|uuid=[&use_compression=][&task_id=].
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w, "get_export")
		return
	}
	q := r.URL.Query()
	id := q.Get("ref")
	if id == "" {
		id = q.Get("uuid")
	}
	// The storage check comes before the task is taken, so a redirected
	// request leaves the task to the host that serves it (xen-api
	// ocaml/xapi/export.ml handler: check_vm_host_SRs, then 302 to
	// find_host_for_VM's address; no host: the task fails, no reply).
	target, herr := s.transferHost(r, func() ([]string, bool) {
		vm, err := s.st.byRefOrUUID("VM", id)
		if err != nil {
			return nil, false
		}
		return s.vmSRs(vm), true
	})
	if target != "" {
		s.redirect(w, r, target)
		return
	}
	task, err := s.transferTask(r, "Export of VM: "+id)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	if herr != nil {
		s.failTask(task, herr)
		s.closeSilently(w)
		return
	}
	vmRef, hdr, disks, err := s.prepareExport(id, task)
	if err != nil {
		s.failBeforeHeaders(w, task, err)
		return
	}
	defer s.endOperation(vmRef, task)
	if s.stallHead(r) {
		s.failTask(task, errStalled)
		return
	}
	x, err := s.hijack(w, fmt.Sprintf(exportHead, task, apiMajor, apiMinor))
	if err != nil {
		s.failTask(task, err)
		return
	}
	ctx, done := s.startWork(r.Context(), task)
	defer done()
	cw := &connWriter{ctx: ctx, conn: x.conn, lim: limiter(x.faults), drop: x.faults.DropAfter,
		stall: x.faults.StallAfter, count: s.counter("export")}
	if err := s.streamXVA(ctx, task, cw, codecOf(q.Get("use_compression")), hdr, disks); err != nil {
		s.failTask(task, err)
		abort(x.conn)
		return
	}
	_ = x.conn.Close()
	s.completeTask(task, "")
}

func codecOf(v string) compress.Codec {
	switch v {
	case "true", "gzip":
		return compress.Gzip
	case "zstd":
		return compress.Zstd
	}
	return compress.None
}

// prepareExport checks the VM, locks it with current_operations[task]=export
// and builds ova.xml and the disk list.
func (s *Server) prepareExport(id, task string) (string, *xva.Header, []exportDisk, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	vm, err := s.st.byRefOrUUID("VM", id)
	if err != nil {
		return "", nil, nil, err
	}
	if err := checkOp(vm, "export"); err != nil {
		return "", nil, nil, err
	}
	set := xva.ExportSet{VM: xva.Record{Ref: vm.ref, Fields: snapshot(vm.rec)}}
	seenSR, vdiByUUID := map[string]bool{}, map[string]string{}
	var disks []exportDisk
	for _, ref := range vm.refs("VBDs") {
		vbd, err := s.st.get("VBD", ref)
		if err != nil {
			continue
		}
		set.VBDs = append(set.VBDs, xva.Record{Ref: vbd.ref, Fields: snapshot(vbd.rec)})
		vdi, err := s.st.get("VDI", vbd.str("VDI"))
		if err != nil || vdiByUUID[vdi.str("uuid")] != "" {
			continue
		}
		set.VDIs = append(set.VDIs, xva.Record{Ref: vdi.ref, Fields: snapshot(vdi.rec)})
		vdiByUUID[vdi.str("uuid")] = vdi.ref
		if sr, err := s.st.get("SR", vdi.str("SR")); err == nil && !seenSR[sr.ref] {
			seenSR[sr.ref] = true
			set.SRs = append(set.SRs, xva.Record{Ref: sr.ref, Fields: snapshot(sr.rec)})
		}
	}
	hdr, err := xva.BuildHeader(s.version(), set)
	if err != nil {
		return "", nil, nil, err
	}
	refs, err := hdr.Disks()
	if err != nil {
		return "", nil, nil, err
	}
	for _, d := range refs {
		uuid, _ := d.VDI["uuid"].(string)
		k, ok := s.disks.get(vdiByUUID[uuid])
		if !ok {
			return "", nil, nil, fail("VDI_IO_ERROR", "no content for VDI "+uuid)
		}
		disks = append(disks, exportDisk{id: d.ID, disk: k})
	}
	sort.Slice(disks, func(i, j int) bool { return disks[i].id < disks[j].id })
	s.st.putMap(vm, "current_operations", task, "export")
	return vm.ref, hdr, disks, nil
}

func (s *Server) version() xva.Version {
	return xva.Version{Hostname: s.opts.PoolName + "-host1", Date: s.now().UTC().Format("2006-01-02"),
		ProductVersion: productVersion, ProductBrand: productBrand, BuildNumber: "release/xapisim",
		XapiMajor: 1, XapiMinor: 20, ExportVsn: 2}
}

// endOperation removes the task's entry from the VM's current_operations.
func (s *Server) endOperation(vmRef, task string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if vm, err := s.st.get("VM", vmRef); err == nil {
		s.st.deleteMap(vm, "current_operations", task)
	}
}

// streamXVA writes the XVA (optionally compressed as a whole) to w.
func (s *Server) streamXVA(ctx context.Context, task string, w io.Writer, codec compress.Codec, hdr *xva.Header, disks []exportDisk) error {
	bw := newCoalescer(w)
	cw, err := compress.NewWriter(bw, codec, compress.WriterOptions{})
	if err != nil {
		return err
	}
	ova, err := hdr.MarshalOVA()
	if err != nil {
		return err
	}
	xw := xva.NewWriter(cw, xva.WriterOptions{ModTime: s.now()})
	if err := xw.WriteOVA(ova); err != nil {
		return err
	}
	var total, sent int64
	for _, d := range disks {
		total += d.disk.size
	}
	for _, d := range disks {
		pr := &progressReader{ctx: ctx, r: d.disk.reader(), report: func(n int64) {
			s.setProgress(task, float64(sent+n)/float64(max(total, 1)))
		}}
		if err := xw.WriteDisk(d.id, d.disk.size, pr); err != nil {
			return err
		}
		sent += d.disk.size
	}
	if err := xw.Close(); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// progressReader checks cancellation and reports progress every 256 MiB.
type progressReader struct {
	ctx    context.Context
	r      io.Reader
	n      int64
	next   int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n >= p.next {
		p.next = p.n + 256<<20
		p.report(p.n)
	}
	return n, err
}
