// Package xapisim is an XAPI simulator: a real HTTP server that speaks XAPI's
// XML-RPC and JSON-RPC byte for byte as a XenServer / XCP-ng host does for the
// calls xbr and Xen Orchestra use (sessions, records, VM snapshot and destroy
// semantics, tasks, event.from), and serves the HTTP transfer handlers
// /export (XVA), /import (XVA) and /export_raw_vdi.
//
// Disks hold deterministic, seeded content generated on the fly (zeros, random
// blocks, log text, repeated database pages), so a large VM costs no memory;
// imported disks are kept as sparse files in a data directory. Fault knobs
// (rate limit, dropped connections, slow first byte, refused logins, a full SR,
// HTTP 500 on every request) can be changed at run time (SetFaults), and so
// can the password (SetPassword) and the sessions (ExpireSessions: a
// password changed under a running client, then its session expired). Several simulators can run in one process, each
// an independent pool.
//
// Options.Hosts makes a pool of several hosts (StartHosts serves each over
// HTTPS on its own 127.0.0.1 port with its own self-signed certificate and
// Certificate record; host.address is then "127.0.0.1:<port>"). Each host
// has a local SR; VMs are placed across them. As XAPI does, a transfer of
// storage another host sees answers 302 to it, a login or a user-session
// call on a non-master answers HOST_IS_SLAVE [master address], and
// pool.designate_new_master (or SetMaster) moves the master. Options.XapiVersion
// sets the xapi version claimed, and argument counts follow it (VM.snapshot's
// ignore_vdis from 21.4).
//
// GET /sim/stats (no session) is the simulator's own: the number of API calls
// per method and of HTTP requests per path, as JSON (see Stats), so tests and
// benchmarks can count what a backup costs the pool master.
//
// The wire rules it follows are those of the project's reference on XAPI
// (shared/reference/xapi-and-xva.md, §1–§5 and the checklist of §7).
package xapisim
