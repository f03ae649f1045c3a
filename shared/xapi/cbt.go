package xapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"math/bits"
)

// CBTBlockSize is the granularity of changed block tracking: one bitmap
// bit per 64 KiB of disk.
const CBTBlockSize = 64 << 10

// maxBitmap bounds a list_changed_blocks answer: 64 MiB of bitmap covers
// 32 PiB of disk.
const maxBitmap = 64 << 20

// Codes of the CBT calls.
const (
	CodeNoCBTMetadata    = "VDI_NO_CBT_METADATA"
	CodeIncompatibleType = "VDI_INCOMPATIBLE_TYPE"
	CodeCBTEnabled       = "VDI_CBT_ENABLED"
	// CodeCBTUnrelated is SM's CBTChangedBlocksError: the two VDIs are the
	// same, or not on one CBT chain (CBT was disabled, reset or never on).
	CodeCBTUnrelated = "SR_BACKEND_FAILURE_460"
)

// EnableCBT turns changed block tracking on for a VDI (idempotent).
func (c *Client) EnableCBT(ctx context.Context, vdi VDIRef) error {
	_, err := c.Call(ctx, "VDI.enable_cbt", vdi)
	return err
}

// DisableCBT turns it off (idempotent); older snapshots leave the chain.
func (c *Client) DisableCBT(ctx context.Context, vdi VDIRef) error {
	_, err := c.Call(ctx, "VDI.disable_cbt", vdi)
	return err
}

// DataDestroy deletes a CBT-enabled snapshot's data and keeps its CBT
// metadata: the VDI's type becomes cbt_metadata (idempotent on one).
func (c *Client) DataDestroy(ctx context.Context, vdi VDIRef) error {
	_, err := c.Call(ctx, "VDI.data_destroy", vdi)
	return err
}

// ListChangedBlocks asks which 64 KiB blocks changed between two VDIs of
// one CBT chain, the older first (VDI.list_changed_blocks(vdi_from,
// vdi_to)); to must not be attached.
func (c *Client) ListChangedBlocks(ctx context.Context, from, to VDIRef) (Bitmap, error) {
	v, err := c.Call(ctx, "VDI.list_changed_blocks", from, to)
	if err != nil {
		return Bitmap{}, err
	}
	s, ok := v.(string)
	if !ok {
		return Bitmap{}, fmt.Errorf("VDI.list_changed_blocks %s %s: result is %s, not a string", from, to, describeValue(v))
	}
	b, err := DecodeBitmap(s)
	if err != nil {
		return Bitmap{}, fmt.Errorf("VDI.list_changed_blocks %s %s: %w", from, to, err)
	}
	return b, nil
}

// Bitmap is a changed-block bitmap: bit n, most significant bit first in
// each byte, is the 64 KiB block at offset n * CBTBlockSize (SM reverses
// blktap's LSB-first words before encoding). Its length may exceed the
// disk (padding, or a disk that grew along the chain): clip it with Clip.
type Bitmap struct {
	bits   []byte
	blocks int64
}

// DecodeBitmap decodes list_changed_blocks' base64 answer.
func DecodeBitmap(s string) (Bitmap, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > maxBitmap {
		return Bitmap{}, fmt.Errorf("changed-block bitmap of %d base64 bytes: more than %d bytes", len(s), maxBitmap)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Bitmap{}, fmt.Errorf("changed-block bitmap is not base64: %w", err)
	}
	return Bitmap{bits: b, blocks: int64(len(b)) * 8}, nil
}

// Clip limits the bitmap to a disk of size bytes: ceil(size / 64 KiB)
// blocks, the partial last block included. Bits beyond are dropped.
func (b Bitmap) Clip(size int64) Bitmap {
	n := (max(size, 0) + CBTBlockSize - 1) / CBTBlockSize
	b.blocks = min(b.blocks, n)
	return b
}

// Covers reports whether the bitmap has a bit for every block of a disk
// of size bytes. SM refuses to answer with fewer; a caller should treat a
// bitmap that does not cover its disk as unusable, never as "unchanged".
func (b Bitmap) Covers(size int64) bool {
	return b.blocks >= (max(size, 0)+CBTBlockSize-1)/CBTBlockSize
}

// Len is the number of blocks the bitmap covers.
func (b Bitmap) Len() int64 { return b.blocks }

// Changed reports whether block n changed.
func (b Bitmap) Changed(n int64) bool {
	return n >= 0 && n < b.blocks && b.bits[n/8]&(0x80>>(n%8)) != 0
}

// Count is the number of changed blocks.
func (b Bitmap) Count() int64 {
	var n int64
	for i := int64(0); i < (b.blocks+7)/8; i++ {
		v := b.bits[i]
		if rest := b.blocks - i*8; rest < 8 {
			v &= 0xff << (8 - rest)
		}
		n += int64(bits.OnesCount8(v))
	}
	return n
}

// Blocks yields the changed block numbers in order.
func (b Bitmap) Blocks() iter.Seq[int64] {
	return func(yield func(int64) bool) {
		for i := int64(0); i < (b.blocks+7)/8; i++ {
			if b.bits[i] == 0 {
				continue
			}
			for n := i * 8; n < min(i*8+8, b.blocks); n++ {
				if b.Changed(n) && !yield(n) {
					return
				}
			}
		}
	}
}

// Run is a maximal run of consecutive changed blocks.
type Run struct {
	First  int64 // first block
	Blocks int64 // how many
}

// Offset is the run's first byte on the disk.
func (r Run) Offset() int64 { return r.First * CBTBlockSize }

// Length is the run's length in bytes (the last block of a disk may be
// shorter: clip to the disk size).
func (r Run) Length() int64 { return r.Blocks * CBTBlockSize }

// Runs yields the runs of changed blocks in order.
func (b Bitmap) Runs() iter.Seq[Run] {
	return func(yield func(Run) bool) {
		cur := Run{First: -1}
		for n := range b.Blocks() {
			if cur.First >= 0 && n == cur.First+cur.Blocks {
				cur.Blocks++
				continue
			}
			if cur.First >= 0 && !yield(cur) {
				return
			}
			cur = Run{First: n, Blocks: 1}
		}
		if cur.First >= 0 {
			yield(cur)
		}
	}
}
