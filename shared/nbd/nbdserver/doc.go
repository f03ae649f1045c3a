// Package nbdserver serves read-only NBD exports as XAPI's NBD server
// (xapi-nbd) does, so the XAPI simulator and tests have a real-shaped peer
// for package nbd (shared/reference/cbt-and-nbd.md §2.2):
//   - fixed newstyle; the handshake flags offer FIXED_NEWSTYLE only (no
//     NO_ZEROES), and a client setting any other flag is dropped;
//   - per connection, Config.Mode decides forced TLS, no TLS, or refusal
//     (XAPI: some network has purpose nbd, only insecure_nbd, or neither or
//     both);
//   - before STARTTLS in TLS mode: STARTTLS is acknowledged and TLS 1.2 is
//     negotiated, EXPORT_NAME and ABORT close the connection, anything else
//     gets NBD_REP_ERR_TLS_REQD;
//   - then: EXPORT_NAME ends negotiation (an unknown export closes the
//     connection: EXPORT_NAME has no error reply), LIST gets ERR_POLICY,
//     STARTTLS again ERR_INVALID (ERR_POLICY without TLS), ABORT an ACK and
//     a close, and every other option, NBD_OPT_GO and
//     NBD_OPT_STRUCTURED_REPLY included, ERR_UNSUP;
//   - the EXPORT_NAME reply is size, flags HAS_FLAGS|READ_ONLY and 124 zero
//     bytes;
//   - READ needs an offset and length aligned to 512 bytes inside the
//     export (else EINVAL) and streams the data in 1 MiB pieces after the
//     reply header; WRITE gets EPERM, DISC closes without a reply, any other
//     command gets EINVAL; requests are served one at a time;
//   - at most MaxConns connections (16, as xapi-nbd); more are closed at once.
package nbdserver
