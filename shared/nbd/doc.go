// Package nbd is a client for the Network Block Device protocol as XAPI's
// NBD server (xapi-nbd) speaks it: the export a VDI.get_nbd_info record
// names, read over TLS in the fixed-newstyle handshake.
//
// What it does, and why (shared/reference/cbt-and-nbd.md §2–§3):
//   - The handshake is fixed newstyle with NBD_OPT_STARTTLS then
//     NBD_OPT_EXPORT_NAME: xapi-nbd answers NBD_REP_ERR_UNSUP to
//     NBD_OPT_GO, NBD_OPT_INFO and NBD_OPT_STRUCTURED_REPLY, so only simple
//     replies exist and reads are plain NBD_CMD_READ.
//   - TLS is verified: the certificate get_nbd_info returns is the only
//     root, and its subject is the server name checked against the
//     certificate's names. Xen Orchestra's client does not verify; this one
//     does. TLS 1.2 or later, as xapi-nbd serves TLS 1.2 only.
//   - Reads go straight from the connection into the caller's buffer, at
//     most MaxRequest bytes per request; requests are sent one at a time,
//     as xapi-nbd serves them in order. Concurrency is more connections.
//   - A server error reply becomes an *Error naming the command, offset,
//     length and errno. A broken frame, a timeout or a cancelled context
//     closes the connection: its state is unknown, so it is not reused.
//   - Close sends NBD_CMD_DISC, which has no reply, then closes.
//
// The export name holds the caller's XAPI session; it never appears in an
// error or a log line.
//
// Package nbdserver is the other side, small and read-only, for the XAPI
// simulator and tests.
package nbd
