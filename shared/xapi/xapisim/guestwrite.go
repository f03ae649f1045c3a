package xapisim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// maxGuestWrite bounds one guest write request.
const maxGuestWrite = 1 << 30

// guestWrite is a validated POST /sim/vdi/<uuid>/write request.
type guestWrite struct {
	uuid                string
	offset, length      int64
	seed                uint64
	ref                 string
	virtualSize, blocks int64
}

// parseGuestWrite validates the path and the offset, length and seed
// parameters; each error names the parameter and its value.
func parseGuestWrite(r *http.Request) (guestWrite, error) {
	var w guestWrite
	rest, ok := strings.CutPrefix(r.URL.Path, "/sim/vdi/")
	uuid, ok2 := strings.CutSuffix(rest, "/write")
	if !ok || !ok2 || uuid == "" || strings.Contains(uuid, "/") {
		return w, fmt.Errorf("path %q: want /sim/vdi/<vdi-uuid>/write", r.URL.Path)
	}
	w.uuid = uuid
	q := r.URL.Query()
	num := func(name string, min, max int64) (int64, error) {
		v := q.Get(name)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min || n > max || n%512 != 0 {
			return 0, fmt.Errorf("%s %q: want a multiple of 512 bytes from %d to %d", name, v, min, max)
		}
		return n, nil
	}
	var err error
	if w.offset, err = num("offset", 0, 1<<62); err != nil {
		return w, err
	}
	if w.length, err = num("length", 512, maxGuestWrite); err != nil {
		return w, err
	}
	if w.seed, err = strconv.ParseUint(q.Get("seed"), 10, 64); err != nil {
		return w, fmt.Errorf("seed %q: want an unsigned 64-bit integer", q.Get("seed"))
	}
	return w, nil
}

// serveGuestWrite answers POST /sim/vdi/<uuid>/write?offset=&length=&seed=:
// it writes deterministic data into a VDI as its guest would, tracked by
// CBT. A simulator endpoint outside XAPI's namespace; it needs no session.
func (s *Server) serveGuestWrite(w http.ResponseWriter, r *http.Request) {
	req, err := parseGuestWrite(r)
	if err != nil {
		http.Error(w, "xapisim: guest write: "+err.Error(), http.StatusBadRequest)
		return
	}
	code, err := s.checkGuestWrite(&req)
	if err != nil {
		http.Error(w, "xapisim: guest write: "+err.Error(), code)
		return
	}
	// The blocks are marked before and after the data land: a snapshot
	// taken meanwhile then over-reports, never misses, a change.
	s.st.mu.Lock()
	s.cbtWrite(req.ref, req.offset, req.length)
	s.st.mu.Unlock()
	if err := s.disks.write(req.ref, req.offset, req.length, guestData(req.seed)); err != nil {
		http.Error(w, fmt.Sprintf("xapisim: guest write to VDI %s: %v", req.uuid, err), http.StatusInternalServerError)
		return
	}
	s.st.mu.Lock()
	s.cbtWrite(req.ref, req.offset, req.length)
	s.st.mu.Unlock()
	s.countBytes("guest_write", req.length)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"vdi": req.uuid, "offset": req.offset, "length": req.length,
		"blocks": req.blocks})
}

// checkGuestWrite resolves the VDI and checks that a guest can write
// there: a live disk (not a snapshot, not cbt_metadata) and the range
// inside it.
func (s *Server) checkGuestWrite(req *guestWrite) (int, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	vdi, err := s.st.byUUID("VDI", req.uuid)
	if err != nil {
		return http.StatusNotFound, fmt.Errorf("vdi %q: no VDI has this uuid", req.uuid)
	}
	if vdi.flag("is_a_snapshot") || vdi.str("type") == "cbt_metadata" || vdi.flag("read_only") {
		return http.StatusConflict, fmt.Errorf("vdi %q: a snapshot, cbt_metadata or read-only VDI takes no guest writes", req.uuid)
	}
	req.ref, req.virtualSize = vdi.ref, vdi.num("virtual_size")
	if req.offset+req.length > req.virtualSize {
		return http.StatusBadRequest, fmt.Errorf("offset %d + length %d: past the end of VDI %s (%d bytes)",
			req.offset, req.length, req.uuid, req.virtualSize)
	}
	req.blocks = (req.offset+req.length-1)/cbtBlock - req.offset/cbtBlock + 1
	return http.StatusOK, nil
}
