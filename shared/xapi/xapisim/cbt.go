package xapisim

import (
	"encoding/base64"
	"slices"
)

// cbtBlock is the granularity of changed block tracking: one bit per
// 64 KiB (blktap CBT_BLOCK_SIZE).
const cbtBlock = 64 << 10

// cbtLog is a VDI's CBT log as SM keeps it (<vdi>.cbtlog): a bitmap of the
// blocks written while it was the live log, and the VDIs whose logs come
// before (parent) and after (child) it on the chain.
type cbtLog struct {
	bits          []byte // one bit per block, MSB-first: bit 0 is block 0
	parent, child string // VDI refs, "" when none
}

// newCBTLog is an empty log for a disk of size bytes: ceil(ceil(size /
// 64 KiB) / 8) bytes (blktap bitmap_size).
func newCBTLog(size int64) *cbtLog {
	blocks := (size + cbtBlock - 1) / cbtBlock
	return &cbtLog{bits: make([]byte, (blocks+7)/8)}
}

// mark sets the bits of the blocks [off, off+n) touches.
func (l *cbtLog) mark(off, n int64) {
	for b := off / cbtBlock; b*cbtBlock < off+n && b/8 < int64(len(l.bits)); b++ {
		l.bits[b/8] |= 0x80 >> (b % 8)
	}
}

// or merges other into l, growing l to other's length (a disk that grew
// along the chain: SM extends the merged bitmap to the newest length).
func (l *cbtLog) or(other []byte) {
	if len(other) > len(l.bits) {
		l.bits = append(l.bits, make([]byte, len(other)-len(l.bits))...)
	}
	for i, b := range other {
		l.bits[i] |= b
	}
}

// cbtErr is SM's CBTChangedBlocksError (460) as XAPI relays an SM failure.
func cbtErr(why string) *Failure {
	return fail("SR_BACKEND_FAILURE_460", "", "Failed to calculate changed blocks for given VDIs. [opterr="+why+"]", "")
}

func (s *Server) cbtMethods(r registry) {
	r.add("VDI.enable_cbt", 1, s.withObj("VDI", func(c *call, vdi *object) (any, error) {
		return "", s.setCBT(vdi, true)
	}), asyncMode)
	r.add("VDI.disable_cbt", 1, s.withObj("VDI", func(c *call, vdi *object) (any, error) {
		return "", s.setCBT(vdi, false)
	}), asyncMode)
	r.add("VDI.list_changed_blocks", 2, s.withObj("VDI", s.listChangedBlocks), asyncMode)
	r.add("VDI.data_destroy", 1, s.withObj("VDI", s.dataDestroy), asyncMode)
	r.add("VDI.pool_migrate", 3, s.withObj("VDI", s.vdiPoolMigrate), asyncMode)
}

// checkCBTOp applies xapi_vdi.ml's checks of enable_cbt and disable_cbt:
// never on cbt_metadata or types other than user and system, never on a
// snapshot, never on an on_boot=reset VDI.
func checkCBTOp(vdi *object) error {
	if t := vdi.str("type"); t != "user" && t != "system" {
		return fail("VDI_INCOMPATIBLE_TYPE", vdi.ref, t)
	}
	if vdi.flag("is_a_snapshot") {
		return fail("OPERATION_NOT_ALLOWED", "VDI is a snapshot: "+vdi.ref)
	}
	if vdi.str("on_boot") == "reset" {
		return fail("VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION")
	}
	return nil
}

// setCBT enables or disables tracking (idempotent). Enabling starts a new
// log with no parent; disabling deletes the log and unlinks it from its
// parent, so older snapshots are no longer on any chain that reaches the
// VDI (SM configure_blocktracking). st.mu is held.
func (s *Server) setCBT(vdi *object, on bool) error {
	if err := checkCBTOp(vdi); err != nil {
		return err
	}
	if vdi.flag("cbt_enabled") == on {
		return nil
	}
	if on {
		s.cbt[vdi.ref] = newCBTLog(vdi.num("virtual_size"))
	} else if l := s.cbt[vdi.ref]; l != nil {
		if p := s.cbt[l.parent]; p != nil && p.child == vdi.ref {
			p.child = ""
		}
		delete(s.cbt, vdi.ref)
	}
	ops := slices.DeleteFunc(vdi.refs("allowed_operations"), func(op string) bool {
		return op == "enable_cbt" || op == "disable_cbt"
	})
	ops = append(ops, map[bool]string{true: "disable_cbt", false: "enable_cbt"}[on])
	vdi.rec["allowed_operations"] = ops
	s.st.set(vdi, "cbt_enabled", on)
	return nil
}

// cbtSnapshot moves vdi's log to its new snapshot snap and starts a fresh
// one for vdi, linked snapshot -> vdi (SM _cbt_snapshot). st.mu is held.
func (s *Server) cbtSnapshot(vdi, snap *object) {
	l := s.cbt[vdi.ref]
	if l == nil {
		return
	}
	s.cbt[snap.ref] = l
	if p := s.cbt[l.parent]; p != nil {
		p.child = snap.ref
	}
	fresh := newCBTLog(vdi.num("virtual_size"))
	fresh.parent, fresh.child = snap.ref, l.child
	l.child = vdi.ref
	s.cbt[vdi.ref] = fresh
	s.st.set(snap, "cbt_enabled", true)
}

// cbtForget removes a destroyed VDI's log, merging its bitmap into its
// child's so the chain around it still answers for the blocks it held
// (SM coalesces the bitmap on delete). st.mu is held.
func (s *Server) cbtForget(ref string) {
	l := s.cbt[ref]
	if l == nil {
		return
	}
	if c := s.cbt[l.child]; c != nil {
		c.or(l.bits)
		c.parent = l.parent
	}
	if p := s.cbt[l.parent]; p != nil {
		p.child = l.child
	}
	delete(s.cbt, ref)
}

// cbtWrite records a guest write into vdi's live log. st.mu is held.
func (s *Server) cbtWrite(ref string, off, n int64) {
	if l := s.cbt[ref]; l != nil {
		l.mark(off, n)
	}
}

// listChangedBlocks implements VDI.list_changed_blocks(vdi_from, vdi_to):
// the OR of the logs after vdi_from up to vdi_to along child links, base64
// (SM VDI.list_changed_blocks). vdi_to must not be attached.
func (s *Server) listChangedBlocks(c *call, from *object) (any, error) {
	to, err := c.obj(1, "VDI")
	if err != nil {
		return nil, err
	}
	if s.attached(to) {
		return nil, fail("VDI_IN_USE", to.ref, "list_changed_blocks")
	}
	if from.ref == to.ref {
		return nil, cbtErr("Source and target VDI are same")
	}
	if s.cbt[from.ref] == nil || s.cbt[to.ref] == nil {
		return nil, cbtErr("Source and target VDI are unrelated")
	}
	merged := &cbtLog{}
	cur := from.ref
	for range len(s.cbt) {
		next := s.cbt[cur].child
		if s.cbt[next] == nil {
			break
		}
		cur = next
		merged.or(s.cbt[cur].bits)
		if cur == to.ref {
			return base64.StdEncoding.EncodeToString(merged.bits), nil
		}
	}
	return nil, cbtErr("Source and target VDI are unrelated")
}

// attached reports whether any VBD of vdi is currently attached.
func (s *Server) attached(vdi *object) bool {
	for _, ref := range vdi.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil && vbd.flag("currently_attached") {
			return true
		}
	}
	return false
}

// cbtMetadataOps are what a cbt_metadata VDI still allows (xapi_vdi.ml).
var cbtMetadataOps = []string{"destroy", "forget", "data_destroy", "list_changed_blocks", "update", "generate_config"}

// dataDestroy implements VDI.data_destroy: a CBT-enabled snapshot's data
// go and its CBT log stays; its type becomes cbt_metadata. XAPI waits up
// to 4 s for the VDI's VBDs to be destroyed; the simulator does not wait.
func (s *Server) dataDestroy(c *call, vdi *object) (any, error) {
	if vdi.str("type") == "cbt_metadata" {
		return "", nil
	}
	if !vdi.flag("is_a_snapshot") {
		return nil, fail("OPERATION_NOT_ALLOWED", "VDI is not a snapshot: "+vdi.ref)
	}
	if !vdi.flag("cbt_enabled") {
		return nil, fail("VDI_NO_CBT_METADATA", vdi.ref)
	}
	if len(vdi.refs("VBDs")) > 0 {
		return nil, fail("VDI_IN_USE", vdi.ref, "data_destroy")
	}
	vdi.rec["allowed_operations"] = slices.Clone(cbtMetadataOps)
	vdi.rec["physical_utilisation"] = int64(0)
	s.st.set(vdi, "type", "cbt_metadata")
	if sr, err := s.st.get("SR", vdi.str("SR")); err == nil {
		s.accountSR(sr)
	}
	if err := s.disks.drop(vdi.ref); err != nil {
		s.log.Warn("xapisim: drop disk content", "vdi", vdi.ref, "err", err)
	}
	return "", nil
}

// refuseMetadata is VDI_INCOMPATIBLE_TYPE for a cbt_metadata VDI, which has
// no data to export, snapshot or serve.
func refuseMetadata(vdi *object) error {
	if vdi.str("type") == "cbt_metadata" {
		return fail("VDI_INCOMPATIBLE_TYPE", vdi.ref, "cbt_metadata")
	}
	return nil
}
