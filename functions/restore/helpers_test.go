package restore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

const (
	poolName   = "lab"
	remoteName = "nfs"
	diskSize   = 3<<20 + 4096 // not a multiple of the chunk size
)

// env is a simulated pool, a directory remote and an embedded NATS backbone.
type env struct {
	t       testing.TB
	sim     *xapisim.Server
	url     string       // the simulator's base URL
	client  *xapi.Client // the test's own client, for assertions
	root    string       // the remote's directory
	conn    *bus.Conn
	pools   *fn.Pools
	remotes *fn.Remotes
	h       *restore.Handler
}

func newEnv(t testing.TB, opts xapisim.Options) *env {
	t.Helper()
	if opts.DiskSize == 0 {
		opts.DiskSize = diskSize
	}
	if opts.VMs == 0 {
		opts.VMs = 2
	}
	sim, err := xapisim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	e := &env{t: t, sim: sim, url: url, root: t.TempDir()}
	e.client = login(t, url, user, pass)
	log := slog.New(slog.DiscardHandler)
	e.pools = fn.NewPools([]config.Pool{{Name: poolName, URL: url, Username: user, Password: config.NewSecret(pass)}}, log)
	t.Cleanup(func() { e.pools.Close(context.Background()) })
	e.remotes = fn.NewRemotes([]config.Remote{{Name: remoteName, Type: config.RemoteDir, Path: e.root}}, testsupport.OpenDir)
	e.conn = testsupport.StartNATS(t)
	e.h = restore.New(e.pools, e.remotes, e.conn, events.Subjects{}, restore.Options{ProgressEvery: 50 * time.Millisecond})
	return e
}

// setHold rebuilds the handler with a verifier that withholds hold bytes (0: the default).
func (e *env) setHold(hold int) {
	e.h = restore.New(e.pools, e.remotes, e.conn, events.Subjects{}, restore.Options{ProgressEvery: 50 * time.Millisecond, HoldBack: hold})
}

func login(t testing.TB, url, user, pass string) *xapi.Client {
	t.Helper()
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	return c
}

// halted returns the first halted ordinary VM of the simulator.
func (e *env) halted() xapisim.VMInfo {
	e.t.Helper()
	for _, vm := range e.sim.VMs() {
		if vm.PowerState == "Halted" && !vm.IsSnapshot && !vm.IsTemplate {
			return vm
		}
	}
	e.t.Fatal("no halted VM in the simulator")
	return xapisim.VMInfo{}
}

// backupOpts say how a test backup is written.
type backupOpts struct {
	codec      compress.Codec
	xo         bool // Xen Orchestra's layout: no xbr object
	xoChecksum bool // with XO's .xva.checksum (only with xo)
	at         time.Time
}

// writeBackup exports vm from the simulator and stores it on the remote in
// the catalog layout, .json last, and returns its id.
func (e *env) writeBackup(vm xapisim.VMInfo, o backupOpts) catalog.ID {
	e.t.Helper()
	ctx := context.Background()
	if o.at.IsZero() {
		o.at = time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	}
	id, err := catalog.NewID(remoteName, vm.UUID, o.at)
	if err != nil {
		e.t.Fatal(err)
	}
	data := e.export(ctx, xapi.VMRef(vm.Ref), o.codec)
	dir := filepath.Join(e.root, filepath.FromSlash(catalog.VMPrefix(vm.UUID)))
	must(e.t, os.MkdirAll(dir, 0o755))
	must(e.t, os.WriteFile(filepath.Join(e.root, id.DataKey()), data, 0o644))
	sum := sha256.Sum256(data)
	meta := catalog.Metadata{JobID: "6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f", Mode: catalog.ModeFull,
		ScheduleID: "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b", Timestamp: o.at.UnixMilli(), Version: catalog.MetadataVersion,
		VM: vmRecord(vm), VMSnapshot: vmRecord(vm), XVA: "./" + id.Timestamp() + ".xva", Size: int64(len(data))}
	if !o.xo {
		meta.Xbr = &catalog.Xbr{Version: "test", SHA256: hex.EncodeToString(sum[:]), Codec: string(o.codec),
			RunID: "run1", Pool: poolName, Job: "nightly", Schedule: "daily"}
	}
	if o.xo && o.xoChecksum {
		m := md5.Sum(data)
		must(e.t, os.WriteFile(filepath.Join(e.root, id.ChecksumKey()), []byte("$1$$"+hex.EncodeToString(m[:])), 0o644))
	}
	js, err := meta.Marshal()
	must(e.t, err)
	must(e.t, os.WriteFile(filepath.Join(e.root, id.MetaKey()), js, 0o644))
	return id
}

// export reads the XVA of vm from the simulator, compressed with codec.
// Test disks are a few MiB, so holding one in memory is fine here.
func (e *env) export(ctx context.Context, vm xapi.VMRef, codec compress.Codec) []byte {
	e.t.Helper()
	tr, err := e.client.Export(ctx, vm, xapi.ExportOptions{})
	must(e.t, err)
	var buf bytes.Buffer
	w, err := compress.NewWriter(&buf, codec, compress.WriterOptions{})
	must(e.t, err)
	_, err = io.Copy(w, tr)
	must(e.t, err)
	must(e.t, tr.Close())
	must(e.t, w.Close())
	return buf.Bytes()
}

func vmRecord(vm xapisim.VMInfo) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"uuid": vm.UUID, "name_label": vm.NameLabel, "power_state": vm.PowerState,
		"other_config": map[string]string{"xo:backup:job": "x"}})
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// request builds the delivery of a restore request.
func request(t testing.TB, p restoreclient.Params, attempt uint64) bus.Event {
	t.Helper()
	if p.Pool == "" {
		p.Pool = poolName
	}
	p.Key = t.Name() + p.Key
	now := time.Now()
	req, err := restoreclient.NewRequest(p, now)
	must(t, err)
	return rawRequest(t, req, attempt)
}

// rawRequest skips restores' validation, as a hostile publisher would.
func rawRequest(t testing.TB, req events.RestoreRequested, attempt uint64) bus.Event {
	t.Helper()
	msg, err := restoreclient.Message(events.Subjects{}, req, events.Source("test"), time.Now())
	must(t, err)
	return bus.Event{Received: events.Received{Message: msg, Payload: req}, Delivery: bus.Delivery{Attempt: attempt}}
}

// handle runs the handler and returns its only follow-up's payload.
func (e *env) handle(ev bus.Event) (events.Payload, error) {
	e.t.Helper()
	outs, err := e.h.Handle(context.Background(), ev)
	if err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		e.t.Fatalf("follow-ups: got %d, want 1", len(outs))
	}
	rec, err := events.Decode(outs[0].Subject, mustHeaders(e.t, outs[0]), outs[0].Event.Data())
	must(e.t, err)
	return rec.Payload, nil
}

func mustHeaders(t testing.TB, m events.Message) map[string][]string {
	h, _, err := events.Encode(m.Event)
	must(t, err)
	return h
}

func (e *env) completed(ev bus.Event) events.RestoreCompleted {
	t := e.t
	t.Helper()
	p, err := e.handle(ev)
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	c, ok := p.(events.RestoreCompleted)
	if !ok {
		t.Fatalf("outcome: got %#v, want restore.completed", p)
	}
	return c
}

func (e *env) failed(ev bus.Event) events.RestoreFailed {
	t := e.t
	t.Helper()
	p, err := e.handle(ev)
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	f, ok := p.(events.RestoreFailed)
	if !ok {
		t.Fatalf("outcome: got %#v, want restore.failed", p)
	}
	return f
}

// diskDigests are the SHA-256 of each disk of vm, read through /export_raw_vdi.
func (e *env) diskDigests(vmRef string) []string {
	e.t.Helper()
	info, err := e.sim.VM(vmRef)
	must(e.t, err)
	var out []string
	for _, vdi := range info.VDIs {
		tr, err := e.client.ExportRawVDI(context.Background(), xapi.VDIRef(vdi))
		must(e.t, err)
		h := sha256.New()
		n, err := io.Copy(h, tr)
		must(e.t, err)
		must(e.t, tr.Close())
		out = append(out, fmt.Sprintf("%d:%x", n, h.Sum(nil)))
	}
	return out
}

// vmByUUID finds a VM of the simulator.
func (e *env) vmByUUID(uuid string) xapisim.VMInfo {
	e.t.Helper()
	for _, vm := range e.sim.VMs() {
		if vm.UUID == uuid {
			return vm
		}
	}
	e.t.Fatalf("no VM %s in the simulator", uuid)
	return xapisim.VMInfo{}
}

// objects counts the simulator's VMs and VDIs: a failed restore leaves both unchanged.
func (e *env) objects() string {
	return fmt.Sprintf("%d VMs, %d VDIs", len(e.sim.Refs("VM")), len(e.sim.Refs("VDI")))
}
