// Package xapi is a client for XAPI, the management API of XCP-ng and
// XenServer: sessions, typed records, the VM calls a backup needs (snapshot,
// destroy with disks, metadata edits, power), Async tasks, and the streaming
// HTTP transfers /export, /import and /export_raw_vdi; and what an
// incremental backup asks: changed block tracking (EnableCBT, DisableCBT,
// ListChangedBlocks decoded to a Bitmap of 64 KiB blocks, MSB-first,
// DataDestroy) and where to read a VDI over NBD (NBDInfo, whose records
// configure package nbd; their export name holds the session and is never
// printed).
//
// It speaks XML-RPC by default (every XAPI version serves it), JSON-RPC at
// /jsonrpc on request, or either with Auto: JSON-RPC when the host serves it
// (about six times cheaper to decode for a large get_all_records), else
// XML-RPC. CachedVMs keeps one view of the pool's VMs per client, current
// through event.from, so questions asked of a large pool cost the changes
// since the last question, not a full get_all_records each. The XAPI quirks
// it handles, each documented where it is handled:
//   - results and failures come in a {Status, Value | ErrorDescription}
//     envelope, not as XML-RPC faults; failures become *Error;
//   - API ints arrive as untagged XML-RPC strings and are parsed;
//   - a session can expire at any time: every call re-logs in once on
//     SESSION_INVALID and retries;
//   - VM.snapshot's ignore_vdis parameter is missing on old hosts
//     (MESSAGE_PARAMETER_COUNT_MISMATCH): the call is retried without it;
//   - VM.destroy leaves the disks behind: DestroyVM removes them as Xen
//     Orchestra does (hard-shutting-down a VM that runs); DestroyHaltedVM
//     does so only for a VM still halted, and as the caller expects, when
//     it comes to it, and never shuts one down;
//   - add_to_other_config fails on an existing key (MAP_DUPLICATE_KEY): the
//     key is removed first;
//   - Async task results are XML-RPC documents in a string, on both transports;
//   - an HTTP transfer can fail after its 200 headers, visible only in its
//     task: every transfer runs under a task the client creates and checks;
//   - /import rejects chunked bodies (403, IMPORT_ERROR_CANNOT_HANDLE_CHUNKED):
//     a stream of unknown length is sent with a huge Content-Length and ended
//     by closing the write side; XAPI may close first, which is not an error;
//   - /export, /export_raw_vdi and /import answer 302 to another host when
//     only that host sees the storage (export.ml, export_raw_vdi.ml,
//     import.ml); downloads follow it to pool hosts only (the query holds the
//     session), and an upload waits for XAPI's answer to its head, which
//     comes before XAPI reads any body, so a redirect costs no body byte;
//   - an unknown sr_id is not a HANDLE_INVALID: no host sees it, so /import
//     answers 500 (NO_HOSTS_AVAILABLE) before taking the caller's task, which
//     stays pending;
//   - HOST_IS_SLAVE [address] answers a login or a call on a host that is
//     no longer the master: the client moves there and repeats the call,
//     asking the old host for the master's certificate thumbprint
//     (x-xenapi-request-host-certificate-thumbprint: sha-256:master);
//   - a master that dies sends no HOST_IS_SLAVE: when it cannot be reached,
//     a call that never left goes to the pool's other hosts in turn (read at
//     login, or pinned), and a member's HOST_IS_SLAVE leads to the new master.
//
// TLS certificates are verified by default. XCP-ng hosts use self-signed
// certificates; WithFingerprint pins one by the SHA-256 of its DER encoding.
// Every other host of the pool is trusted by the fingerprint the pool
// publishes for it in its Certificate records (read over the master's
// session) or by the thumbprint a trusted host sends with HOST_IS_SLAVE;
// without either its certificate must verify against the roots.
package xapi
