package xapi

import (
	"encoding/base64"
	"slices"
	"testing"

	"xbr/shared/xapi/xmlrpc"
)

// FuzzDecodeBitmap: any answer decodes or is an error; Blocks, Runs and
// Count agree with Changed on the clipped length.
func FuzzDecodeBitmap(f *testing.F) {
	f.Add("gA==", int64(65536))       // block 0
	f.Add("AAAAAQ==", int64(2<<20))   // block 31
	f.Add("/////w==", int64(100_000)) // all, clipped to 2 blocks
	f.Add("not base64!", int64(0))
	f.Add("", int64(1<<30))
	f.Fuzz(func(t *testing.T, s string, size int64) {
		b, err := DecodeBitmap(s)
		if err != nil {
			return
		}
		b = b.Clip(size)
		var blocks []int64
		for n := range b.Len() {
			if b.Changed(n) {
				blocks = append(blocks, n)
			}
		}
		if got := slices.Collect(b.Blocks()); !slices.Equal(got, blocks) || int64(len(blocks)) != b.Count() {
			t.Fatalf("Blocks %v, Changed %v, Count %d", got, blocks, b.Count())
		}
		var fromRuns []int64
		for r := range b.Runs() {
			for n := r.First; n < r.First+r.Blocks; n++ {
				fromRuns = append(fromRuns, n)
			}
		}
		if !slices.Equal(fromRuns, blocks) {
			t.Fatalf("Runs give %v, want %v", fromRuns, blocks)
		}
	})
}

// TestBitmapOrder: the first bit is the most significant bit of byte 0
// and names the block at offset 0.
func TestBitmapOrder(t *testing.T) {
	b, err := DecodeBitmap(base64.StdEncoding.EncodeToString([]byte{0x80, 0x01, 0xff}))
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(b.Blocks()); !slices.Equal(got, []int64{0, 15, 16, 17, 18, 19, 20, 21, 22, 23}) {
		t.Fatalf("blocks %v", got)
	}
	if got := slices.Collect(b.Clip(17*CBTBlockSize + 1).Runs()); !slices.Equal(got, []Run{{0, 1}, {15, 3}}) {
		t.Fatalf("runs clipped to 18 blocks %v", got)
	}
	if !b.Covers(24*CBTBlockSize) || b.Covers(24*CBTBlockSize+1) || !b.Clip(100).Covers(100) {
		t.Fatal("Covers is wrong at the edge of 24 blocks")
	}
	if r := (Run{First: 2, Blocks: 3}); r.Offset() != 2<<16 || r.Length() != 3<<16 {
		t.Fatalf("run bytes %d+%d", r.Offset(), r.Length())
	}
}

// FuzzNBDInfo: get_nbd_info answers (as JSON-RPC values) decode to usable
// records or to an error naming what is wrong.
func FuzzNBDInfo(f *testing.F) {
	f.Add([]byte(`[{"exportname":"/u?session_id=OpaqueRef:s","address":"10.0.0.1","port":10809,"cert":"PEM","subject":"host"}]`))
	f.Add([]byte(`[{"exportname":"/u","address":"fe80::1","port":"10809","cert":"","subject":""}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"address":"nowhere","port":-1}]`))
	f.Add([]byte(`{"port":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xmlrpc.DecodeJSON(data)
		if err != nil {
			return
		}
		infos, err := decodeNBDInfos(v)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, i := range infos {
			if i.Port < 1 || i.Port > 65535 || i.ExportName == "" {
				t.Fatalf("accepted %+v", i)
			}
		}
	})
}
