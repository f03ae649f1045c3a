package xapisim

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"xbr/shared/vhd"
)

const rawHead = "HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n" +
	"task-id:%s\r\ncontent-type:%s\r\n" +
	"Content-Disposition: attachment; filename=\"%s.%s\"\r\n\r\n"

// rawFormats are the formats served and their content types; XAPI's others
// (tar, qcow2) and unknown ones get 404.
var rawFormats = map[string]string{"raw": "application/octet-stream", "vhd": "application/vhd"}

// serveExportRawVDI answers GET /export_raw_vdi?vdi=<ref|uuid>&format=raw
// with the VDI's full virtual_size bytes, and format=vhd with a dynamic VHD
// where each 2 MiB block that is all zeros is left unallocated (refused with
// VDI_TOO_LARGE above vhd.MaxSize); other formats get 404.
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
	format := cmp.Or(q.Get("format"), "raw")
	ctype, ok := rawFormats[format]
	if !ok {
		s.failTask(task, fail("INTERNAL_ERROR", "Unknown format "+format))
		httpError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	src, err := s.rawContent(q.Get("vdi"))
	k := src.disk
	var blocks []uint32
	if err == nil && format == "vhd" {
		blocks, err = vhdBlocks(q.Get("vdi"), k, s.CurrentFaults().RefuseVHD)
	}
	if err != nil {
		s.failBeforeHeaders(w, task, err)
		return
	}
	if s.stallHead(r) {
		s.failTask(task, errStalled)
		return
	}
	x, err := s.hijack(w, fmt.Sprintf(rawHead, task, ctype, src.uuid, format))
	if err != nil {
		s.failTask(task, err)
		return
	}
	ctx, done := s.startWork(r.Context(), task)
	defer done()
	cw := &connWriter{ctx: ctx, conn: x.conn, lim: limiter(x.faults), drop: x.faults.DropAfter,
		stall: x.faults.StallAfter, count: s.counter("export_raw_vdi")}
	report := func(n int64) { s.setProgress(task, float64(n)/float64(max(k.size, 1))) }
	if format == "vhd" {
		var out io.Writer = cw
		if x.faults.DamageVHD {
			out = &damageFirst{w: cw}
		}
		err = writeVHD(ctx, out, src, blocks, report)
	} else {
		pr := &progressReader{ctx: ctx, r: k.reader(), report: report}
		_, err = io.CopyBuffer(cw, pr, make([]byte, blockSize))
	}
	if err != nil {
		s.failTask(task, err)
		abort(x.conn)
		return
	}
	_ = x.conn.Close()
	s.completeTask(task, "")
}

// exported is the VDI a transfer reads: its uuid, its content, and whether
// that content is a raw image (see rawBacked).
type exported struct {
	uuid    string
	disk    *disk
	fromRaw bool
}

// rawContent finds the VDI named by ref or uuid and its content; a
// cbt_metadata VDI has none to export.
func (s *Server) rawContent(id string) (exported, error) {
	s.st.mu.Lock()
	vdi, err := s.st.byRefOrUUID("VDI", id)
	var x exported
	var ref string
	if err == nil {
		x.uuid, x.fromRaw, ref = vdi.str("uuid"), rawBacked(vdi), vdi.ref
		err = refuseMetadata(vdi)
	}
	s.st.mu.Unlock()
	if err != nil {
		return exported{}, err
	}
	k, ok := s.disks.get(ref)
	if !ok {
		return exported{}, fail("VDI_IO_ERROR", "no content for VDI "+x.uuid)
	}
	x.disk = k
	return x, nil
}

// rawBacked tells a VDI whose image is a raw file (sm_config type=raw, as
// SM's FileSR marks one; Options.RawDisks): XAPI hands it to vhd-tool as a
// raw source, whose VHD export differs (vhd.Image.FromRaw).
func rawBacked(vdi *object) bool { return vdi.smap("sm_config")["type"] == "raw" }

// vhdBlocks decides, before the headers, the blocks a VHD of k allocates:
// those not all zeros. Above the VHD maximum XAPI refuses the format
// (export_raw_vdi.ml); refuse makes it refuse any disk (Faults.RefuseVHD).
func vhdBlocks(vdi string, k *disk, refuse bool) ([]uint32, error) {
	if k.size > vhd.MaxSize || refuse {
		return nil, fail("VDI_TOO_LARGE", vdi, strconv.FormatInt(vhd.MaxSize, 10))
	}
	return vhd.NonZeroBlocks(k.src, k.size)
}

// writeVHD streams x's content as a dynamic VHD of the given blocks, as
// vhd-tool writes that of a raw image when x is one, reporting the disk
// bytes covered so far.
func writeVHD(ctx context.Context, w io.Writer, x exported, blocks []uint32, report func(int64)) error {
	var next int64
	k := x.disk
	_, err := vhd.Write(w, vhd.Image{Size: k.size, Blocks: blocks, FromRaw: x.fromRaw, Read: func(i uint32, buf []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := int64(i) * vhd.DefaultBlockSize
		clear(buf)
		if _, err := k.src.ReadAt(buf[:min(int64(len(buf)), k.size-off)], off); err != nil && err != io.EOF {
			return err
		}
		if off >= next {
			next = off + 256<<20
			report(off)
		}
		return nil
	}})
	return err
}

// damageFirst changes the first byte written through it (Faults.DamageVHD).
type damageFirst struct {
	w    io.Writer
	done bool
}

func (d *damageFirst) Write(p []byte) (int, error) {
	if !d.done && len(p) > 0 {
		d.done = true
		q := append([]byte{p[0] ^ 0xff}, p[1:]...)
		return d.w.Write(q)
	}
	return d.w.Write(p)
}
