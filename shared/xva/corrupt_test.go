package xva_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"xbr/shared/xva"
)

// ent is one entry of a hand-built archive.
type ent struct {
	name string
	data []byte
}

// build writes entries as a tar (Go's ustar form, which XVA readers must
// accept too) with the end-of-archive blocks.
func build(t testing.TB, entries ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Size: int64(len(e.data)), Mode: 0o400, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ovaFor is the ova.xml entry for disks of the given sizes.
func ovaFor(t testing.TB, disks ...disk) ent {
	b, err := testHeader(disks...).MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	return ent{"ova.xml", b}
}

// chunk returns a chunk entry and its .xxhash entry.
func chunk(name string, data []byte) []ent {
	return []ent{{name, data}, {name + ".xxhash", fmt.Appendf(nil, "%016X", xxhash.Sum64(data))}}
}

// sized is a disk of n bytes for ova.xml (content irrelevant).
func sized(id string, n int) disk { return disk{id, make([]byte, n)} }

// TestReaderXAPISemantics reads an archive as XAPI writes it after a long
// zero region: a zero-length keep-alive chunk that shifts the numbering,
// and a numbering gap, with SHA-1 .checksum entries mixed in.
func TestReaderXAPISemantics(t *testing.T) {
	a, b, c := content(10, "r", mib), content(11, "t", mib), content(12, "r", mib-5)
	zeroSHA1 := "3b71f43ff30f4b15b5cd85dd9e95ebc7e84eb5a3" // §4.4: sha1 of 1 MiB of zeros
	sumA := sha1.Sum(a)
	entries := []ent{ovaFor(t, sized("Ref:2", 6*mib-5)),
		{"Ref:2/00000000", a}, {"Ref:2/00000000.checksum", []byte(hex.EncodeToString(sumA[:]))},
		// keep-alive: empty chunk, xxh64(empty) from §4.4; the offset stays at 1 MiB
		{"Ref:2/00000001", nil}, {"Ref:2/00000001.xxhash", []byte("EF46DB3751D8E999")},
		{"Ref:2/00000002", b}, {"Ref:2/00000002.xxhash", fmt.Appendf(nil, "%016X", xxhash.Sum64(b))},
		{"Ref:2/00000003", make([]byte, mib)}, {"Ref:2/00000003.checksum", []byte(zeroSHA1)},
		// numbers 4 and 5 are missing: two first-chunk sizes of zeros
		{"Ref:2/00000006", c}, {"Ref:2/00000006.xxhash", fmt.Appendf(nil, "%016X", xxhash.Sum64(c))},
	}
	want := slicesConcat(a, b, make([]byte, 3*mib), c)
	_, datas, err := readAll(t, bytes.NewReader(build(t, entries...)), false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(datas[0], want) {
		t.Fatalf("disk content differs from XAPI's reading (%d bytes, want %d)", len(datas[0]), len(want))
	}
}

// TestReaderGapSizedByFirstChunk checks XAPI's rule that a gap counts in
// units of the archive's very first chunk, even in a later disk.
func TestReaderGapSizedByFirstChunk(t *testing.T) {
	entries := []ent{ovaFor(t, sized("Ref:1", 512), sized("Ref:2", 3*512))}
	entries = append(entries, chunk("Ref:1/00000000", bytes.Repeat([]byte{1}, 512))...)
	entries = append(entries, chunk("Ref:2/00000000", bytes.Repeat([]byte{2}, 512))...)
	entries = append(entries, chunk("Ref:2/00000002", bytes.Repeat([]byte{3}, 512))...)
	_, datas, err := readAll(t, bytes.NewReader(build(t, entries...)), true)
	if err != nil {
		t.Fatal(err)
	}
	want := slicesConcat(bytes.Repeat([]byte{2}, 512), make([]byte, 512), bytes.Repeat([]byte{3}, 512))
	if !bytes.Equal(datas[1], want) {
		t.Fatalf("second disk = %x…, want 512×02, 512×00, 512×03", datas[1][:8])
	}
}

// TestReferenceHashes asserts §4.4's reference values on what the writer
// emits.
func TestReferenceHashes(t *testing.T) {
	tests := []struct {
		data []byte
		want string
	}{
		{[]byte("abc"), "44BC2CF5AD770999"},
		{make([]byte, mib), "87D2A1B6E1163EF1"},
	}
	for _, tt := range tests {
		tr := tar.NewReader(bytes.NewReader(xvaBytes(t, disk{"Ref:2", tt.data})))
		var got string
		for {
			hdr, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Name == "Ref:2/00000000.xxhash" {
				b, _ := io.ReadAll(tr)
				got = string(b)
				break
			}
		}
		if got != tt.want {
			t.Errorf(".xxhash of %d bytes = %s, want %s", len(tt.data), got, tt.want)
		}
	}
	if got := fmt.Sprintf("%016X", xxhash.Sum64(nil)); got != "EF46DB3751D8E999" {
		t.Errorf("xxh64(empty) = %s", got)
	}
}

func TestReaderErrors(t *testing.T) {
	data := content(20, "rzt", 3*mib)
	good := func() []byte { return xvaBytes(t, disk{"Ref:2", data}) }
	at := func(b []byte, name string) int { return bytes.Index(b, []byte(name+"\x00")) }
	tests := []struct {
		name    string
		archive func() []byte
		is      error
		want    string
	}{
		{"flipped byte in a chunk", func() []byte {
			b := good()
			b[at(b, "Ref:2/00000002")+512+100] ^= 0x20
			return b
		}, xva.ErrChecksum, `xva: entry "Ref:2/00000002": xxhash mismatch: got `},
		{"wrong checksum", func() []byte {
			return build(t, ovaFor(t, sized("Ref:2", 3)), ent{"Ref:2/00000000", []byte("abc")},
				ent{"Ref:2/00000000.xxhash", []byte("44bc2cf5ad770999")})
		}, xva.ErrChecksum, `entry "Ref:2/00000000": xxhash mismatch: got 44BC2CF5AD770999 want "44bc2cf5ad770999"`},
		{"wrong sha1", func() []byte {
			return build(t, ovaFor(t, sized("Ref:2", 3)), ent{"Ref:2/00000000", []byte("abc")},
				ent{"Ref:2/00000000.checksum", []byte(strings.Repeat("0", 40))})
		}, xva.ErrChecksum, `entry "Ref:2/00000000": sha1 mismatch`},
		{"ova.xml not first", func() []byte {
			return build(t, ent{"foo", []byte("x")}, ovaFor(t))
		}, xva.ErrFormat, `xva: entry "foo": expected ova.xml first`},
		{"empty stream", func() []byte { return nil }, xva.ErrFormat, "archive has no entries"},
		{"bad ova.xml", func() []byte {
			return build(t, ent{"ova.xml", []byte("<value><struct><member><name>version</name><value>1</value></member></struct></value>")})
		}, xva.ErrFormat, `ova.xml: field "version" is a string, not a struct`},
		{"truncated in a chunk", func() []byte {
			b := good()
			return b[:at(b, "Ref:2/00000002")+512+1000]
		}, io.ErrUnexpectedEOF, `entry "Ref:2/00000002": reading byte 1000 of 1048576`},
		{"truncated between chunks", func() []byte {
			b := good()
			return b[:at(b, "Ref:2/00000002")]
		}, io.ErrUnexpectedEOF, `disk "Ref:2": archive ends at byte 1048576 of 3145728`},
		{"truncated before its checksum", func() []byte {
			b := good()
			return b[:at(b, "Ref:2/00000002.xxhash")]
		}, io.ErrUnexpectedEOF, `entry "Ref:2/00000002": archive ends before its checksum`},
		{"no end blocks", func() []byte {
			b := good()
			return b[:len(b)-1024]
		}, io.ErrUnexpectedEOF, "without its end-of-archive blocks"},
		{"disk not in ova.xml", func() []byte {
			e := append([]ent{ovaFor(t, sized("Ref:2", 3))}, chunk("Ref:2/00000000", []byte("abc"))...)
			return build(t, append(e, chunk("Ref:77/00000000", []byte("x"))...)...)
		}, xva.ErrFormat, `entry "Ref:77/00000000": not part of any disk in ova.xml`},
		{"missing disk", func() []byte {
			e := append([]ent{ovaFor(t, sized("Ref:2", 3), sized("Ref:3", 3))}, chunk("Ref:3/00000000", []byte("abc"))...)
			return build(t, e...)
		}, xva.ErrFormat, `entry "Ref:3/00000000": expected a chunk of disk "Ref:2" (at byte 0 of 3)`},
		{"out-of-order chunks", func() []byte {
			e := []ent{ovaFor(t, sized("Ref:2", 4*512))}
			e = append(e, chunk("Ref:2/00000000", make([]byte, 512))...)
			e = append(e, chunk("Ref:2/00000002", make([]byte, 512))...)
			return build(t, append(e, chunk("Ref:2/00000001", make([]byte, 512))...)...)
		}, xva.ErrFormat, `entry "Ref:2/00000001": chunk out of order: it follows "Ref:2/00000002"`},
		{"repeated chunk", func() []byte {
			e := []ent{ovaFor(t, sized("Ref:2", 2*512))}
			e = append(e, chunk("Ref:2/00000000", make([]byte, 512))...)
			return build(t, append(e, chunk("Ref:2/00000000", make([]byte, 512))...)...)
		}, xva.ErrFormat, `entry "Ref:2/00000000": chunk out of order`},
		{"bad chunk name", func() []byte {
			return build(t, append([]ent{ovaFor(t, sized("Ref:2", 3))}, chunk("Ref:2/0x1", []byte("abc"))...)...)
		}, xva.ErrFormat, `entry "Ref:2/0x1": expected a chunk of disk "Ref:2" named Ref:2/<number>`},
		{"checksum missing", func() []byte {
			return build(t, ovaFor(t, sized("Ref:2", 6)), ent{"Ref:2/00000000", []byte("abc")}, ent{"Ref:2/00000001", []byte("def")})
		}, xva.ErrFormat, `entry "Ref:2/00000001": expected "Ref:2/00000000.xxhash" or "Ref:2/00000000.checksum"`},
		{"chunk overruns the disk", func() []byte {
			return build(t, append([]ent{ovaFor(t, sized("Ref:2", 2))}, chunk("Ref:2/00000000", []byte("abc"))...)...)
		}, xva.ErrFormat, `entry "Ref:2/00000000": chunk of 3 bytes at byte 0 overruns disk "Ref:2" of 2 bytes`},
		{"gap overruns the disk", func() []byte {
			e := []ent{ovaFor(t, sized("Ref:2", 2*512))}
			e = append(e, chunk("Ref:2/00000000", make([]byte, 512))...)
			return build(t, append(e, chunk("Ref:2/00000009", make([]byte, 512))...)...)
		}, xva.ErrFormat, `entry "Ref:2/00000009": gap of 8 chunks of 512 bytes after byte 512 overruns`},
		{"bad tar checksum", func() []byte {
			b := good()
			b[at(b, "Ref:2/00000000")+5] = 'X'
			return b
		}, xva.ErrFormat, `entry "Ref:2X00000000": tar header chksum`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, bytes.NewReader(tt.archive()), false)
			if err == nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant errors.Is %v and containing %q", err, tt.is, tt.want)
			}
		})
	}
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
