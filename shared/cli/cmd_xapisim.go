package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"xbr/shared/xapi/xapisim"
)

// newXapiSimCmd runs the XAPI simulator standalone until interrupted.
func newXapiSimCmd() *cobra.Command {
	var (
		opts                           xapisim.Options
		listen, diskSize, srSize       string
		rateLimit, dropAfter           string
		firstByteDelay                 time.Duration
		refuseLogins, srFull, logDebug bool
		serverError                    bool
	)
	cmd := &cobra.Command{
		Use:   "xapi-sim",
		Short: "Run the XAPI simulator (a fake XCP-ng pool) on an HTTP address",
		Long:  xapiSimLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.DiskSize, err = xapisim.ParseSize(diskSize); err != nil {
				return fmt.Errorf("--disk-size: %w", err)
			}
			if srSize != "" {
				if opts.SRSize, err = xapisim.ParseSize(srSize); err != nil {
					return fmt.Errorf("--sr-size: %w", err)
				}
			}
			if opts.Faults.RateLimit, err = xapisim.ParseSize(rateLimit); err != nil {
				return fmt.Errorf("--rate-limit: %w", err)
			}
			if opts.Faults.DropAfter, err = xapisim.ParseSize(dropAfter); err != nil {
				return fmt.Errorf("--drop-after: %w", err)
			}
			opts.Faults.FirstByteDelay = firstByteDelay
			opts.Faults.RefuseLogins, opts.Faults.SRFull, opts.Faults.ServerError = refuseLogins, srFull, serverError
			opts.Logger = simLogger(cmd.ErrOrStderr(), logDebug)
			return runXapiSim(cmd, opts, listen)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8443", "address to serve on")
	f.IntVar(&opts.VMs, "vms", 2, "ordinary VMs in the pool (even-numbered ones are Running)")
	f.IntVar(&opts.Hosts, "hosts", 1, "pool members; more than 1 serves each host over HTTPS with its own certificate on --listen's port + i, places VMs across the hosts' local SRs and redirects transfers as XAPI does")
	f.StringVar(&opts.XapiVersion, "xapi-version", "24.19", "xapi version to claim (argument counts follow it, e.g. 1.249.26 for XCP-ng 8.2)")
	f.StringVar(&diskSize, "disk-size", "1GiB", "size of each VM disk")
	f.IntVar(&opts.DisksPerVM, "disks", 1, "disks per VM")
	f.BoolVar(&opts.SameContent, "same-content", false, "every VM's disks hold the same content, as VMs cloned from one template")
	f.BoolVar(&opts.RawDisks, "raw-disks", false, "VM disks are raw images (sm_config type=raw): format=vhd is built as vhd-tool builds it from a raw file")
	f.StringVar(&opts.User, "user", "root", "login user")
	f.StringVar(&opts.Password, "password", "xapisim", "login password")
	f.StringVar(&opts.DataDir, "data-dir", "", "directory for imported disks (default: a temporary one)")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the generated disk content")
	f.StringVar(&srSize, "sr-size", "", "size of the SR (default: 1 TiB or 4x the disks)")
	f.StringVar(&opts.PoolName, "pool-name", "xapisim", "pool name_label")
	f.StringVar(&rateLimit, "rate-limit", "0", "fault: transfer rate limit in bytes/s (0: none)")
	f.StringVar(&dropAfter, "drop-after", "0", "fault: cut /export connections after this many bytes (0: never)")
	f.DurationVar(&firstByteDelay, "first-byte-delay", 0, "fault: delay before a transfer's response head")
	f.BoolVar(&refuseLogins, "refuse-logins", false, "fault: refuse every login")
	f.BoolVar(&srFull, "sr-full", false, "fault: the SR has no free space")
	f.BoolVar(&serverError, "server-error", false, "fault: answer every request with HTTP 500")
	f.StringVar(&opts.NBD, "nbd", "", "purpose of the pool network: nbd (NBD over TLS) or insecure_nbd; empty: no NBD until network.add_purpose")
	addGuestFlags(f, &opts)
	f.BoolVar(&logDebug, "debug", false, "log debug messages")
	return cmd
}

// simLogger logs the simulator's messages as text, debug ones when asked.
func simLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// addGuestFlags registers the flags of the simulated guests.
func addGuestFlags(f *pflag.FlagSet, opts *xapisim.Options) {
	f.DurationVar(&opts.BootDelay, "boot-delay", time.Second, "time a started guest takes to report (guest metrics, a health check script's verdict)")
	f.DurationVar(&opts.SlowBootDelay, "slow-boot-delay", time.Hour, "that time for a guest whose behaviour is slow-boot")
	f.StringVar(&opts.Health, "guest-health", "boots", "fault: what every started guest does: boots, never-boots, guest-failure or slow-boot")
}

func runXapiSim(cmd *cobra.Command, opts xapisim.Options, listen string) error {
	sim, err := xapisim.New(opts)
	if err != nil {
		return err
	}
	var urls []string
	if opts.Hosts > 1 {
		_, portText, err := net.SplitHostPort(listen)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", listen, err)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return fmt.Errorf("--listen %q: port %q is not a number", listen, portText)
		}
		if urls, err = sim.StartHosts(port); err != nil {
			return err
		}
	} else {
		url, err := sim.Start(listen)
		if err != nil {
			return err
		}
		urls = []string{url}
	}
	user, pass := sim.Credentials()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "xapi-sim listening on %s\nuser: %s\npassword: %s\nnbd: %s\n", urls[0], user, pass, sim.NBDAddress())
	if len(urls) > 1 {
		for i, u := range urls {
			fmt.Fprintf(out, "host %d: %s tls_fingerprint: %s\n", i+1, u, sim.Fingerprint(i))
		}
	}
	<-cmd.Context().Done()
	return sim.Close()
}

// xapiSimLong is the help of `xbr xapi-sim`.
const xapiSimLong = `xapi-sim serves a simulated XCP-ng pool: XML-RPC and JSON-RPC, sessions,
events, tasks, VM snapshots, and XVA /export and /import, with generated disk
content. It prints its URL and credentials and serves until SIGINT/SIGTERM.

GET /export_raw_vdi?vdi=<ref|uuid>&format=raw|vhd serves one disk: raw is
every byte of its virtual size; vhd is a dynamic VHD holding only the 2 MiB
blocks that are not all zeros (refused with VDI_TOO_LARGE above 2040 GiB;
base= is not simulated). Other formats answer 404, as XAPI does. Both count
under export_raw_vdi in /sim/stats. With --raw-disks the VMs' disks (and
their snapshots) are raw images, sm_config type=raw, of exactly --disk-size
bytes, and their vhd is what XAPI's vhd-tool builds from a raw source: the
footer's size is the disk's rounded up to a whole 2 MiB block, an empty
sector precedes the BAT, and when the block holding the disk's end is
allocated its data stops at the disk's end, the footer copy following at
once (vhd-tool's copy of the image stops at the image's end).

GET /sim/stats (no session; not part of XAPI) answers counters as JSON:
{"calls": {method: n}, "requests": {path: n}, "bytes": {kind: n}} — every
API call received per wire method name ("Async." calls and failed calls
included), every HTTP request per path, and the bytes moved since start per
transfer kind: export, export_raw_vdi, import, nbd_read (NBD read data) and
guest_write, so a benchmark can count what one VM's backup costs.

POST /sim/vdi/<vdi-uuid>/write?offset=<bytes>&length=<bytes>&seed=<n> (no
session; not part of XAPI) writes generated data into a VDI as its guest
would: offset and length multiples of 512 inside the disk, length at most
1 GiB, the bytes a function of seed and position. Changed block tracking
(VDI.enable_cbt, list_changed_blocks, data_destroy) records it.

GET /pool/xmldbdump answers the simulator's database as XAPI's XML dump
(a manifest, then one <table> per persistent class with one <row> per
object; tasks are left out, as XAPI does not persist them), tables and rows
sorted, so one state always gives the same bytes. PUT /pool/xmldbdump
[?dry_run=true] with a Content-Length (400 without) reads and checks an
upload as XAPI's database restore does (a <database> whose manifest names
a schema version; rows with a ref); a bad one fails its task with
RESTORE_INCOMPATIBLE_VERSION. An accepted upload is only recorded: the
simulator keeps its own state, where a real XAPI would restart on the
uploaded database.

NBD: with --nbd nbd (TLS with each host's certificate) or --nbd
insecure_nbd, or after network.add_purpose, VDI.get_nbd_info names an NBD
server on 127.0.0.1 (its port is printed) that serves VDIs read-only as
XAPI's xapi-nbd does.

Guests (for health checks): a started VM's guest reports after --boot-delay:
a VM_guest_metrics record (PV_drivers_detected true) in the VM's
guest_metrics, and, when xenstore_data holds vm-data/xo-backup-health-check
(Xen Orchestra's health check script is planned), the script's verdict
"success" there. --guest-health sets what every started guest does: boots,
never-boots (the domain halts after the boot delay, never reporting),
guest-failure (boots; the script writes "failure" and a reason in
vm-data/xo-backup-health-check-error) or slow-boot (reports only after
--slow-boot-delay). At run time (no session; not part of XAPI):
POST /sim/vm/<vm-uuid>/fault?health=<behaviour> sets one VM's,
POST /sim/fault?health=<behaviour>&name_label=<prefix> those of the VMs
whose name_label starts with prefix (a health check's test VM is a new
import: its name is what is known in advance), or without name_label every
VM's; POST /sim/vm/<vm-uuid>/xenstore?key=vm-data/<k>&value=<v> writes a
vm-data key as the running guest would, read back with
VM.get_xenstore_data. Each applies from the VM's next start.`
