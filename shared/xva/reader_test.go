package xva_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"xbr/shared/compress"
	"xbr/shared/xva"
)

const mib = xva.ChunkSize

// readAll reads every disk of an archive; viaRead hides WriteTo so the
// Read path is exercised.
func readAll(t *testing.T, r io.Reader, viaRead bool) ([]xva.DiskRef, [][]byte, error) {
	t.Helper()
	xr, err := xva.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	defer xr.Close()
	var refs []xva.DiskRef
	var datas [][]byte
	for {
		ref, dr, err := xr.NextDisk()
		if err == io.EOF {
			return refs, datas, nil
		}
		if err != nil {
			return refs, datas, err
		}
		var buf bytes.Buffer
		if viaRead {
			dr = struct{ io.Reader }{dr}
		}
		if _, err := io.Copy(&buf, dr); err != nil {
			return refs, datas, err
		}
		refs = append(refs, ref)
		datas = append(datas, buf.Bytes())
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		disks []disk
	}{
		{"no disk", nil},
		{"empty disk", []disk{{"Ref:2", nil}}},
		{"1 byte", []disk{{"Ref:2", []byte{0x42}}}},
		{"1 zero byte", []disk{{"Ref:2", []byte{0}}}},
		{"1 MiB", []disk{{"Ref:2", content(1, "r", mib)}}},
		{"1 MiB + 1", []disk{{"Ref:2", content(2, "t", mib+1)}}},
		{"zeros in the middle", []disk{{"Ref:2", content(3, "rzztzzr", 7*mib)}}},
		{"first and last zero", []disk{{"Ref:2", content(4, "zrtz", 4*mib-100)}}},
		{"all zeros", []disk{{"Ref:2", make([]byte, 3*mib+7)}}},
		{"several disks", []disk{{"Ref:10", content(5, "rz", 2*mib+3)}, {"Ref:4", nil},
			{"Ref:9", content(6, "zzt", 3*mib)}}},
	}
	codecs := []compress.Codec{compress.None, compress.Gzip, compress.Zstd}
	for i, tt := range tests {
		for _, codec := range codecs {
			t.Run(tt.name+"/"+string(codec), func(t *testing.T) {
				var buf bytes.Buffer
				zw, err := compress.NewWriter(&buf, codec, compress.WriterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				writeXVA(t, zw, tt.disks...)
				if err := zw.Close(); err != nil {
					t.Fatal(err)
				}
				if got := compress.Detect(buf.Bytes()); got != codec {
					t.Fatalf("stream detected as %s, want %s", got, codec)
				}
				refs, datas, err := readAll(t, &buf, i%2 == 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(refs) != len(tt.disks) {
					t.Fatalf("read %d disks, want %d", len(refs), len(tt.disks))
				}
				for j, d := range tt.disks {
					if refs[j].ID != d.id || refs[j].Size != int64(len(d.data)) {
						t.Errorf("disk %d = %s (%d bytes), want %s (%d)", j, refs[j].ID, refs[j].Size, d.id, len(d.data))
					}
					if !bytes.Equal(datas[j], d.data) {
						t.Errorf("disk %s: content differs (%d bytes read, %d written)", d.id, len(datas[j]), len(d.data))
					}
				}
			})
		}
	}
}

// TestReaderSkipsUnreadDisk checks that NextDisk verifies and skips the
// rest of a disk the caller did not read.
func TestReaderSkipsUnreadDisk(t *testing.T) {
	a, b := content(7, "rt", 2*mib), content(8, "t", 100)
	data := xvaBytes(t, disk{"Ref:1", a}, disk{"Ref:2", b})
	data[bytes.Index(data, []byte("Ref:1/00000001\x00"))+512+10] ^= 1
	xr, err := xva.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, dr, err := xr.NextDisk()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(dr, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := xr.NextDisk(); !errors.Is(err, xva.ErrChecksum) {
		t.Fatalf("NextDisk after a corrupt unread chunk = %v, want ErrChecksum", err)
	}
}

func TestReaderHeader(t *testing.T) {
	xr, err := xva.NewReader(bytes.NewReader(xvaBytes(t, disk{"Ref:9", []byte("x")}, disk{"Ref:10", nil})))
	if err != nil {
		t.Fatal(err)
	}
	if xr.Header().Version != testVersion {
		t.Errorf("version = %+v, want %+v", xr.Header().Version, testVersion)
	}
	var ids []string
	for _, d := range xr.Disks() {
		ids = append(ids, d.ID)
	}
	if got := strings.Join(ids, ","); got != "Ref:10,Ref:9" {
		t.Errorf("disks = %s, want Ref:10,Ref:9 (string order; the CD on the ISO SR excluded)", got)
	}
	if xr.Codec() != compress.None {
		t.Errorf("codec = %s, want none", xr.Codec())
	}
}
