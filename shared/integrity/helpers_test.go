package integrity_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/remote/dir"
	"xbr/shared/xva"
)

const vmUUID = "2f9c1111-2222-4333-8444-555566667777"

var backupTime = time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)

func newRemote(t testing.TB) *dir.Dir {
	t.Helper()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// diskContent generates a realistic sparse-ish disk block by block, never
// holding more than one block: ~1/3 of the 1 MiB blocks are unallocated
// (zeros), the rest alternate random-looking data and log-like text, with
// small all-zero holes inside data blocks as file systems have.
type diskContent struct {
	size, off int64
	seed      uint64
}

func (d *diskContent) Read(p []byte) (int, error) {
	if d.off >= d.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), d.size-d.off))
	for i := 0; i < n; {
		block := (d.off + int64(i)) / xva.ChunkSize
		end := min(n, int((block+1)*xva.ChunkSize-d.off))
		d.fill(p[i:end], block, d.off+int64(i))
		i = end
	}
	d.off += int64(n)
	return n, nil
}

func (d *diskContent) fill(p []byte, block, off int64) {
	h := mix(d.seed ^ uint64(block))
	switch {
	case block != 0 && h%3 == 0:
		clear(p)
	case h%3 == 1:
		line := []byte(fmt.Sprintf("2026-05-01T02:00:%02dZ host-%d kernel: eth0 link up, 1000Mbps full duplex\n", block%60, h%97))
		n := copy(p, line[off%int64(len(line)):])
		for n < len(p) {
			n += copy(p[n:], line)
		}
	default:
		fillRandom(p, h, off)
	}
}

// fillRandom writes 8-byte words mix(h^word) with a 4 KiB hole every 32 KiB;
// p starts at disk offset off.
func fillRandom(p []byte, h uint64, off int64) {
	var w [8]byte
	for i := 0; i < len(p); {
		pos := uint64(off+int64(i)) / 8
		skip := int((off + int64(i)) % 8)
		if pos%4096 < 512 {
			w = [8]byte{}
		} else {
			binary.LittleEndian.PutUint64(w[:], mix(h^pos))
		}
		i += copy(p[i:], w[skip:])
	}
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// header is ova.xml for a VM with one disk per size.
func header(sizes ...int64) *xva.Header {
	h := &xva.Header{Version: xva.Version{Hostname: "xcp1", Date: "2026-05-01", ProductVersion: "8.2.1",
		ProductBrand: "XCP-ng", BuildNumber: "test", XapiMajor: 1, XapiMinor: 20, ExportVsn: 2}}
	var vbds, srVDIs []any
	var objs []xva.Object
	for i, size := range sizes {
		vbd, vdi := fmt.Sprintf("Ref:%d", 10+i), fmt.Sprintf("Ref:%d", 20+i)
		vbds, srVDIs = append(vbds, vbd), append(srVDIs, vdi)
		objs = append(objs,
			xva.Object{Class: "VBD", ID: vbd, Snapshot: map[string]any{"VM": "Ref:0", "VDI": vdi, "type": "Disk", "userdevice": fmt.Sprint(i)}},
			xva.Object{Class: "VDI", ID: vdi, Snapshot: map[string]any{"SR": "Ref:1", "VBDs": []any{vbd}, "virtual_size": size, "type": "user"}})
	}
	h.Objects = append([]xva.Object{
		{Class: "VM", ID: "Ref:0", Snapshot: map[string]any{"uuid": vmUUID, "name_label": "web-1", "VBDs": vbds}},
		{Class: "SR", ID: "Ref:1", Snapshot: map[string]any{"content_type": "user", "VDIs": srVDIs}},
	}, objs...)
	return h
}

// writeBackup streams an XVA of disks of the given sizes onto d as a
// committed backup (data, then the .json with its SHA-256 and size).
func writeBackup(t testing.TB, d *dir.Dir, at time.Time, codec compress.Codec, sizes ...int64) catalog.ID {
	t.Helper()
	ctx := context.Background()
	id, err := catalog.NewID(d.Name(), vmUUID, at)
	if err != nil {
		t.Fatal(err)
	}
	up, err := d.Create(ctx, id.DataKey(), -1)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(up, h)}
	zw, err := compress.NewWriter(cw, codec, compress.WriterOptions{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	ova, err := header(sizes...).MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	xw := xva.NewWriter(zw, xva.WriterOptions{ModTime: at})
	check(t, xw.WriteOVA(ova))
	for i, size := range sizes { // ids Ref:20.. sort in stream order
		check(t, xw.WriteDisk(fmt.Sprintf("Ref:%d", 20+i), size, &diskContent{size: size, seed: uint64(i + 1)}))
	}
	check(t, xw.Close())
	check(t, zw.Close())
	check(t, up.Commit(ctx))
	writeMeta(t, d, id, codec, cw.n, hex.EncodeToString(h.Sum(nil)))
	return id
}

func writeMeta(t testing.TB, d *dir.Dir, id catalog.ID, codec compress.Codec, size int64, sum string) {
	t.Helper()
	vm, _ := json.Marshal(map[string]any{"uuid": vmUUID, "name_label": "web-1"})
	m := catalog.Metadata{JobID: "nightly", Mode: catalog.ModeFull, ScheduleID: "daily", Timestamp: id.Time.UnixMilli(),
		Version: catalog.MetadataVersion, VM: vm, VMSnapshot: json.RawMessage(`{"uuid":"0f9e8d7c-6b5a-4948-8372-61504f3e2d1c"}`),
		XVA: "./" + id.Timestamp() + catalog.DataSuffix, Size: size,
		Xbr: &catalog.Xbr{Version: "test", SHA256: sum, Codec: string(codec), RunID: "r1", Pool: "lab", Job: "nightly", Schedule: "daily"}}
	b, err := m.Marshal()
	check(t, err)
	ctx := context.Background()
	up, err := d.Create(ctx, id.MetaKey(), int64(len(b)))
	check(t, err)
	_, err = up.Write(b)
	check(t, err)
	check(t, up.Commit(ctx))
}

// dataPath is the .xva's file on disk.
func dataPath(d *dir.Dir, id catalog.ID) string {
	return filepath.Join(d.Root(), filepath.FromSlash(id.DataKey()))
}

// flipBit flips one bit of the file at off and returns a function that
// flips it back.
func flipBit(t testing.TB, path string, off int64, bit uint) func() {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	check(t, err)
	defer f.Close()
	var b [1]byte
	_, err = f.ReadAt(b[:], off)
	check(t, err)
	b[0] ^= 1 << bit
	_, err = f.WriteAt(b[:], off)
	check(t, err)
	return func() { flipBit(t, path, off, bit) }
}

func sha256File(t testing.TB, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	check(t, err)
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	check(t, err)
	return hex.EncodeToString(h.Sum(nil)), n
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
