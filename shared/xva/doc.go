// Package xva writes and reads XVA, XAPI's whole-VM export format, as XAPI
// itself does (export_vsn 2).
//
// An XVA is a V7 tar stream, optionally gzip- or zstd-compressed as a whole.
// Its first entry is ova.xml, one XML-RPC <value> describing the exported
// objects (see Header). Each exported disk follows, in lexicographic order
// of its export id, as 1 MiB chunks "Ref:<n>/%08d", each immediately followed
// by its ".xxhash" (XXH64, 16 upper-case hex digits) or, in older exports, its
// ".checksum" (SHA-1, 40 lower-case hex digits).
//
// Writer produces what XAPI's raw read path produces: positional chunk
// numbers, all-zero chunks omitted except the first and the last, no
// zero-length chunks, two zero blocks at the end. Reader follows XAPI's own
// sequential import algorithm (stream_vdi.ml recv_all_vdi): a gap in the
// numbering stands for that many chunks of zeros (sized like the first chunk
// of the archive), a zero-length chunk is a keep-alive, and every chunk's
// checksum is verified before its bytes are handed out.
//
// Both directions stream: memory stays at one chunk whatever the disk size.
// Entry sizes are capped on read (MaxOVASize, MaxChunkSize) so a hostile
// archive cannot make the reader allocate more.
//
// Header models ova.xml (MarshalOVA, ParseOVA); Header.Disks says which disks
// an importer expects and in which order. BuildHeader makes the ova.xml of a
// VM export from API records the way XAPI's export.ml does.
//
// Errors name the tar entry, disk or ova.xml field at fault and match
// ErrFormat (not a valid XVA, truncation included, which also matches
// io.ErrUnexpectedEOF) or ErrChecksum (a chunk does not match its checksum);
// failures of the underlying io.Reader or io.Writer are passed through.
package xva
