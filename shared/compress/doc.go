// Package compress wraps a whole XVA stream in gzip or zstd, and unwraps it
// again by sniffing the magic bytes, as XAPI and Xen Orchestra do (gzip
// 1F 8B, zstd 28 B5 2F FD, anything else is read as is).
//
// Writers are the parallel ones measured fastest on our machines: pgzip for
// gzip (output readable by any gzip) and klauspost's zstd with one goroutine
// per core. Closing a writer flushes the codec but never closes the
// underlying io.Writer; closing a reader never closes the underlying
// io.Reader.
package compress
