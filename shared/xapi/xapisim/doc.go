// Package xapisim is an XAPI simulator: a real HTTP server that speaks XAPI's
// XML-RPC and JSON-RPC byte for byte as a XenServer / XCP-ng host does for the
// calls xbr and Xen Orchestra use (sessions, records, VM snapshot and destroy
// semantics, tasks, event.from), and serves the HTTP transfer handlers
// /export (XVA), /import (XVA) and /export_raw_vdi: format=raw (the whole
// virtual_size) or format=vhd (a dynamic VHD with every all-zero 2 MiB block
// left unallocated, refused with VDI_TOO_LARGE above 2040 GiB; no base);
// other formats answer 404 with INTERNAL_ERROR "Unknown format" in the task.
// A VDI whose sm_config has type=raw (Options.RawDisks) is a raw image: its
// format=vhd is built as XAPI's vhd-tool builds that of a raw source, the
// footer's size rounded up to a whole 2 MiB block and an allocated last
// block cut at the disk's end (vhd.Image.FromRaw).
//
// Disks hold deterministic, seeded content generated on the fly (zeros, random
// blocks, log text, repeated database pages), so a large VM costs no memory;
// imported disks are kept as sparse files in a data directory.
// Options.SameContent (xapi-sim --same-content) gives every VM's disk d the
// same content, as VMs cloned from one template before their guests wrote
// anything (what deduplication across VMs is measured on). Fault knobs
// (rate limit, dropped connections, slow first byte, stalled transfers,
// refused logins, a full SR, HTTP 500 on every request) can be changed at run time (SetFaults), and so
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
// per method, of HTTP requests per path, and of bytes per transfer kind
// (export, export_raw_vdi, import, nbd_read, guest_write) since start, as
// JSON (see Stats), so tests and benchmarks can count what a backup costs
// the pool master.
//
// POST /sim/vdi/<vdi-uuid>/write?offset=<bytes>&length=<bytes>&seed=<n>
// (no session; not XAPI) writes data as the VDI's guest would: offset and
// length are multiples of 512 inside the disk (length at most 1 GiB), and
// the bytes depend only on the seed and their position. Writes land in a
// copy-on-write layer (a sparse file of 64 KiB blocks), so snapshots keep
// their content, and are tracked by CBT.
//
// Guests. A started VM's guest reports after Options.BootDelay: a
// VM_guest_metrics record (PV_drivers_detected true, an os_version) becomes
// the VM's guest_metrics, as XAPI shows a guest whose agent runs; a
// shutdown or destroy removes it. When the VM's xenstore_data holds
// vm-data/xo-backup-health-check (Xen Orchestra's health check sets it to
// "planned" before the start), the simulated guest's script writes its
// verdict there, as XAPI reflects the guest's vm-data writes in
// VM.xenstore_data. The behaviour (Options.Health for every guest,
// SetGuestHealth per VM uuid or name_label prefix, or the endpoints below)
// is HealthBoots, HealthNeverBoots (the domain halts after the delay),
// HealthGuestFailure (the script writes "failure" and a reason under
// vm-data/xo-backup-health-check-error) or HealthSlowBoot (the report comes
// after Options.SlowBootDelay). POST /sim/vm/<vm-uuid>/fault?health=<b>,
// POST /sim/fault?health=<b>[&name_label=<prefix>] and POST
// /sim/vm/<vm-uuid>/xenstore?key=vm-data/<k>&value=<v> (a guest's write)
// need no session. VM.clone makes a VM whose disks are copy-on-write clones
// of a halted VM's, and VM.add_to_xenstore_data / remove_from_ /
// set_xenstore_data edit the map.
//
// Changed block tracking follows XAPI and SM (shared/reference/cbt-and-nbd.md
// §1): VDI.enable_cbt / disable_cbt (cbt_enabled), a log per VDI whose
// snapshot takes the log and links it to a fresh one, VDI.list_changed_blocks
// (base64, one bit per 64 KiB, MSB-first, the OR of the logs after vdi_from
// up to vdi_to; SR_BACKEND_FAILURE_460 when the VDIs are the same or not on
// one chain, VDI_IN_USE when vdi_to is attached), VDI.data_destroy (type
// cbt_metadata, content dropped; VDI_IN_USE while it has VBDs, where XAPI
// waits 4 s for them to go), and VDI.destroy merging a log into its child.
// disable_cbt then enable_cbt breaks the chain. VDI.resize grows a disk
// (never a snapshot, never smaller: SR_BACKEND_FAILURE_79) with zeros and
// grows its CBT log with it. VDI.pool_migrate (a disk
// of a running VM to another SR; the disk becomes a new VDI) refuses a
// tracked VDI with VDI_CBT_ENABLED, so a migration goes through that
// reset, as Xen Orchestra disables CBT and retries.
//
// NBD (§2): network.add_purpose / remove_purpose with nbd or insecure_nbd
// (exclusive: NETWORK_INCOMPATIBLE_PURPOSES), or Options.NBD at start.
// Start and StartHosts also run one NBD server on 127.0.0.1 (NBDAddress)
// for every host, presenting the certificate of the host the client names
// (TLS SNI); VDI.get_nbd_info answers a record per host that sees the VDI's
// SR (each host is taken to have a PIF on the pool's one network) with
// address 127.0.0.1, that port, the host's certificate PEM (none with
// insecure_nbd), its hostname as subject and the export name
// "/<vdi-uuid>?session_id=<ref>", checked by the server as xapi-nbd does; []
// without an NBD network. The server (shared/nbd/nbdserver) refuses what
// xapi-nbd refuses.
//
// The wire rules it follows are those of the project's reference on XAPI
// (shared/reference/xapi-and-xva.md, §1–§5 and the checklist of §7).
package xapisim
