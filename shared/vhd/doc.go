// Package vhd reads and writes dynamic VHD images as streams: what XAPI's
// GET /export_raw_vdi?format=vhd (no base) sends, a VHD holding only the
// disk's allocated blocks.
//
// A dynamic VHD is a footer (512 bytes, cookie "conectix"), a dynamic header
// (1024 bytes, cookie "cxsparse") at the footer's data offset, the block
// allocation table (BAT: one big-endian uint32 sector offset per block,
// 0xFFFFFFFF for a block not allocated) at the header's table offset, then
// each allocated block as a sector bitmap (one bit per 512-byte sector,
// most significant bit first, padded to a whole sector) followed by the
// block's data, and a copy of the footer at the end. All integers are
// big-endian. Source: Microsoft's "Virtual Hard Disk Image Format
// Specification" 1.0, and xen-api's ocaml/libs/vhd (vhd_format/f.ml).
//
// Design decisions:
//   - Reader reads forward only and never seeks: it keeps the BAT (4 bytes
//     per block) and one block, sorts the allocated BAT entries by file
//     offset, skips the padding between them (which must be zeros after the
//     BAT's last sector: a byte there is a block whose BAT entry was lost,
//     not to be read as zeros) and yields blocks by
//     increasing file offset. The blocks of a stream written in BAT order
//     (what vhd-tool writes) come out in increasing disk offset; Reader
//     does not reorder others. Expand turns a Reader into the disk's bytes
//     (zeros where no block is) and fails on a block out of disk order.
//   - Everything read is outside input: a wrong cookie, checksum, version,
//     disk type, block size, size, a BAT entry pointing back into the
//     metadata or into another block, and a truncated stream are errors
//     naming the field and its value, never a panic or a huge allocation.
//   - Sectors whose bitmap bit is clear read as zeros, as the
//     specification says for a disk without a parent.
//   - The footer's size is the disk's virtual size, or that size rounded up
//     to a whole block: XAPI's vhd-tool states the latter in the VHD it
//     builds from a raw image (a raw file, a volume read over NBD), whose
//     size SM does not round (FileSR makes a raw VDI of the size asked).
//     The bytes from the disk's end to the footer's size must then be zeros
//     or unmapped (data there is a larger disk than the VDI: an error), and
//     the block holding the disk's end may stop there, the footer copy
//     following at once, as vhd-tool's copy of the image stops at its end
//     (Image.FromRaw writes such a stream). Either way Reader yields exactly
//     the virtual size's bytes; reading the disk raw instead would read it
//     a second time.
//   - Write produces what Reader reads, for the simulator and the tests.
package vhd
