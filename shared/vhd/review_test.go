package vhd_test

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestBATEntryDroppedIsNotSilent: a damaged BAT entry that marks a stored
// block unallocated must not turn that block into zeros silently. The
// stream still holds the block (its all-ones bitmap and its data) where
// the reader now sees "padding" between blocks 0 and 2.
func TestBATEntryDroppedIsNotSilent(t *testing.T) {
	d := disk(3*bs, 0, 1, 2)
	img := encode(t, d, []uint32{0, 1, 2})
	binary.BigEndian.PutUint32(img[1536+4:], 0xFFFFFFFF) // BAT entry 1: not allocated
	got, err := expand(bytes.NewReader(img), 3*bs)
	if err == nil && !bytes.Equal(got, d) {
		t.Fatalf("damaged BAT read without error; block 1 reads as zeros: %v", bytes.Equal(got[bs:2*bs], make([]byte, bs)))
	}
}

// TestFirstBATEntryDroppedIsNotSilent: the same for the first block, which
// the reader would skip as padding after the BAT.
func TestFirstBATEntryDroppedIsNotSilent(t *testing.T) {
	d := disk(2*bs, 0, 1)
	img := encode(t, d, []uint32{0, 1})
	binary.BigEndian.PutUint32(img[1536:], 0xFFFFFFFF) // BAT entry 0: not allocated
	got, err := expand(bytes.NewReader(img), 2*bs)
	if err == nil && !bytes.Equal(got, d) {
		t.Fatal("damaged BAT read without error; block 0 reads as zeros")
	}
}
