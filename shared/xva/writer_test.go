package xva_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"xbr/shared/testsupport"
	"xbr/shared/xva"
)

// TestWriterEntries checks the entry list a reader of plain tar sees: names,
// order, sizes, mode and mtimes, via Go's archive/tar.
func TestWriterEntries(t *testing.T) {
	const mib = xva.ChunkSize
	d := content(1, "rzztz", 4*mib+5) // chunks 0..4: 1,2 all-zero are omitted; 4 is the 5-byte tail (zero) but last.
	data := xvaBytes(t, disk{"Ref:2", d})

	want := []struct {
		name string
		size int64
	}{
		{"ova.xml", -1},
		{"Ref:2/00000000", mib}, {"Ref:2/00000000.xxhash", 16},
		{"Ref:2/00000003", mib}, {"Ref:2/00000003.xxhash", 16},
		{"Ref:2/00000004", 5}, {"Ref:2/00000004.xxhash", 16},
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for i, w := range want {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if hdr.Name != w.name || (w.size >= 0 && hdr.Size != w.size) {
			t.Errorf("entry %d = %q (%d bytes), want %q (%d)", i, hdr.Name, hdr.Size, w.name, w.size)
		}
		if hdr.Mode != 0o400 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Typeflag != tar.TypeReg {
			t.Errorf("entry %q: mode %o uid %d gid %d type %q", hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Typeflag)
		}
		wantMtime := int64(0)
		if i == 0 {
			wantMtime = 1700000000
		}
		if hdr.ModTime.Unix() != wantMtime {
			t.Errorf("entry %q: mtime %d, want %d", hdr.Name, hdr.ModTime.Unix(), wantMtime)
		}
		if strings.HasSuffix(hdr.Name, ".xxhash") {
			b, _ := io.ReadAll(tr)
			if len(b) != 16 || strings.ToUpper(string(b)) != string(b) {
				t.Errorf("entry %q: %q is not 16 upper-case hex digits", hdr.Name, b)
			}
		}
	}
	if hdr, err := tr.Next(); err != io.EOF {
		t.Fatalf("after the last chunk: %v %v, want EOF", hdr, err)
	}
}

// TestWriterHeaderBytes pins the V7 header layout byte by byte.
func TestWriterHeaderBytes(t *testing.T) {
	data := xvaBytes(t, disk{"Ref:2", []byte("abc")})
	h := data[:512]
	fields := []struct {
		name     string
		off, len int
		want     string
	}{
		{"name", 0, 100, "ova.xml" + strings.Repeat("\x00", 93)},
		{"mode", 100, 8, "0000400\x00"},
		{"uid", 108, 8, "0000000\x00"},
		{"gid", 116, 8, "0000000\x00"},
		{"mtime", 136, 12, "14524770400\x00"},
		{"typeflag", 156, 1, "\x00"},
		{"magic..end", 257, 255, strings.Repeat("\x00", 255)},
	}
	for _, f := range fields {
		if got := string(h[f.off : f.off+f.len]); got != f.want {
			t.Errorf("ova.xml header %s = %q, want %q", f.name, got, f.want)
		}
	}
	sum := h[148:156]
	if sum[7] != 0 || strings.Trim(string(sum[:7]), "01234567") != "" {
		t.Errorf("chksum field %q is not %%07o followed by NUL", sum)
	}
	if len(data)%512 != 0 || !bytes.Equal(data[len(data)-1024:], make([]byte, 1024)) {
		t.Errorf("archive of %d bytes does not end in two zero blocks on a block boundary", len(data))
	}
	// The end: 3-byte chunk block, xxhash block, then exactly two zero blocks.
	chunkHdr := bytes.Index(data, []byte("Ref:2/00000000\x00"))
	if end := chunkHdr + 4*512 + 1024; end != len(data) {
		t.Errorf("archive is %d bytes, want %d (no padding after the end blocks)", len(data), end)
	}
}

// TestGNUTarListsOVAFirst runs the real GNU tar over an exported XVA.
func TestGNUTarListsOVAFirst(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		testsupport.Missing(t, "GNU tar not found")
	}
	path := filepath.Join(t.TempDir(), "vm.xva")
	if err := os.WriteFile(path, xvaBytes(t, disk{"Ref:2", content(2, "rt", 2*xva.ChunkSize)}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tarBin, "-tvf", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tvf: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 5 || !strings.HasSuffix(lines[0], " ova.xml") || !strings.HasPrefix(lines[0], "-r--------") {
		t.Fatalf("tar -tvf listed:\n%s", out)
	}
	if !strings.HasSuffix(lines[4], " Ref:2/00000001.xxhash") {
		t.Errorf("last entry %q, want Ref:2/00000001.xxhash", lines[4])
	}
}

func TestWriterErrors(t *testing.T) {
	ova := []byte("<value></value>")
	tests := []struct {
		name string
		run  func(w *xva.Writer) error
		want string
	}{
		{"disk before ova", func(w *xva.Writer) error {
			return w.WriteDisk("Ref:1", 1, bytes.NewReader([]byte{1}))
		}, "WriteDisk before WriteOVA"},
		{"ova twice", func(w *xva.Writer) error {
			_ = w.WriteOVA(ova)
			return w.WriteOVA(ova)
		}, "WriteOVA called twice"},
		{"short disk", func(w *xva.Writer) error {
			_ = w.WriteOVA(ova)
			return w.WriteDisk("Ref:7", 3*xva.ChunkSize, bytes.NewReader(make([]byte, xva.ChunkSize+10)))
		}, `xva: disk "Ref:7": reading byte 1048586 of 3145728: unexpected EOF`},
		{"out of order", func(w *xva.Writer) error {
			_ = w.WriteOVA(ova)
			_ = w.WriteDisk("Ref:9", 0, nil)
			return w.WriteDisk("Ref:10", 0, nil)
		}, `disk "Ref:10" written after "Ref:9"`},
		{"bad id", func(w *xva.Writer) error {
			_ = w.WriteOVA(ova)
			return w.WriteDisk("Ref:1/x", 0, nil)
		}, `disk id "Ref:1/x"`},
		{"close before ova", func(w *xva.Writer) error { return w.Close() }, "Close before WriteOVA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(xva.NewWriter(io.Discard, xva.WriterOptions{}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestWriterStickyError checks that a failed write fails every later call.
func TestWriterStickyError(t *testing.T) {
	boom := errors.New("disk full")
	w := xva.NewWriter(&failAfter{n: 1024, err: boom}, xva.WriterOptions{})
	if err := w.WriteOVA(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	err := w.WriteDisk("Ref:1", 10, iotest.OneByteReader(bytes.NewReader(make([]byte, 10))))
	if !errors.Is(err, boom) {
		t.Fatalf("WriteDisk = %v, want %v", err, boom)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close = %v, want %v", err, boom)
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, f.err
	}
	f.n -= len(p)
	return len(p), nil
}
