package xapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// stallTimeout is short, so that a stalled transfer fails soon.
const stallTimeout = 300 * time.Millisecond

// download starts one kind of download of vm or of its disk vdi.
type download struct {
	name  string
	start func(ctx context.Context, c *xapi.Client, vm xapi.VMRef, vdi xapi.VDIRef) (*xapi.Transfer, error)
}

var downloads = []download{
	{"export", func(ctx context.Context, c *xapi.Client, vm xapi.VMRef, _ xapi.VDIRef) (*xapi.Transfer, error) {
		return c.Export(ctx, vm, xapi.ExportOptions{})
	}},
	{"export_raw_vdi", func(ctx context.Context, c *xapi.Client, _ xapi.VMRef, vdi xapi.VDIRef) (*xapi.Transfer, error) {
		return c.ExportRawVDI(ctx, vdi)
	}},
}

// fetch runs the download to its end and closes it, as a backup does.
func (d download) fetch(ctx context.Context, c *xapi.Client, vm xapi.VMRef, vdi xapi.VDIRef) error {
	tr, err := d.start(ctx, c, vm, vdi)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, tr)
	return errors.Join(err, tr.Close())
}

// stallSetup starts a simulator with a client whose options are opts and
// returns them, a halted VM and its disk.
func stallSetup(t *testing.T, opts ...xapi.Option) (*xapisim.Server, *xapi.Client, xapi.VMRef, xapi.VDIRef) {
	t.Helper()
	sim, url := startSim(t, xapisim.Options{})
	c := connect(t, url, xapi.XMLRPC, opts...)
	vm, _ := plainVM(t, c, xapi.Halted)
	return sim, c, vm, disksOf(t, c, vm)[0]
}

// returns runs f and fails the test if f has not returned within a
// generous bound: a stalled transfer must end, not hang.
func returns(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still blocked after 30s", what)
		return nil
	}
}

// countTasks returns how many tasks the pool has.
func countTasks(t *testing.T, c *xapi.Client) int {
	t.Helper()
	tasks, err := c.Tasks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(tasks)
}

// wantStalled fails the test unless err is ErrStalled and says for how long.
func wantStalled(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, xapi.ErrStalled) || !strings.Contains(err.Error(), stallTimeout.String()) {
		t.Fatalf("err = %v, want xapi.ErrStalled after %v", err, stallTimeout)
	}
}

func TestSimDownloadStalls(t *testing.T) {
	for _, d := range downloads {
		for _, tt := range []struct {
			name   string
			faults xapisim.Faults
		}{
			{"before the head", xapisim.Faults{StallBeforeHeaders: true}},
			{"mid-body", xapisim.Faults{StallAfter: 256 << 10}},
		} {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				sim, c, vm, vdi := stallSetup(t, xapi.WithStallTimeout(stallTimeout))
				tasks := countTasks(t, c)
				sim.SetFaults(tt.faults)
				err := returns(t, "a stalled download", func() error {
					return d.fetch(context.Background(), c, vm, vdi)
				})
				wantStalled(t, err)
				testsupport.Eventually(t, 10*time.Second, "the transfer's task to be gone", func() bool {
					return countTasks(t, c) == tasks
				})
			})
		}
	}
}

// slowReader sleeps before each of its first reads, as a consumer that
// writes to a slow remote.
type slowReader struct {
	r      io.Reader
	sleeps int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.sleeps > 0 {
		s.sleeps--
		time.Sleep(2 * stallTimeout)
	}
	return s.r.Read(p[:min(len(p), 64<<10)])
}

func TestSimDownloadSlowReaderIsNoStall(t *testing.T) {
	for _, d := range downloads {
		t.Run(d.name, func(t *testing.T) {
			_, c, vm, vdi := stallSetup(t, xapi.WithStallTimeout(stallTimeout))
			tr, err := d.start(context.Background(), c, vm, vdi)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, &slowReader{r: tr, sleeps: 3})
			if cerr := tr.Close(); err != nil || cerr != nil || n == 0 {
				t.Fatalf("a slow reader got %d bytes, %v, Close = %v; want the whole stream", n, err, cerr)
			}
		})
	}
}

func TestSimDownloadCancelIsNoStall(t *testing.T) {
	for _, d := range downloads {
		for _, tt := range []struct {
			name   string
			faults xapisim.Faults
		}{
			{"before the head", xapisim.Faults{StallBeforeHeaders: true}},
			{"mid-body", xapisim.Faults{StallAfter: 256 << 10}},
		} {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				sim, c, vm, vdi := stallSetup(t) // the default stall timeout: the cancel comes first
				tasks := countTasks(t, c)
				sim.SetFaults(tt.faults)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(100*time.Millisecond, cancel) // while the download waits for the host
				err := returns(t, "a cancelled download", func() error { return d.fetch(ctx, c, vm, vdi) })
				if !errors.Is(err, context.Canceled) || errors.Is(err, xapi.ErrStalled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				testsupport.Eventually(t, 10*time.Second, "the transfer's task to be gone", func() bool {
					return countTasks(t, c) == tasks
				})
			})
		}
	}
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSimImportStallFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int64
	}{{"unknown size", -1}, {"known size", 1 << 40}} {
		t.Run(tt.name, func(t *testing.T) {
			sim, c, _, _ := stallSetup(t, xapi.WithStallTimeout(stallTimeout))
			tasks, vms := countTasks(t, c), countVMs(t, c)
			sim.SetFaults(xapisim.Faults{StallImport: true})
			err := returns(t, "a stalled import", func() error {
				_, err := c.Import(context.Background(), zeros{}, tt.size, xapi.ImportOptions{})
				return err
			})
			wantStalled(t, err)
			testsupport.Eventually(t, 10*time.Second, "the import's task to be gone", func() bool {
				return countTasks(t, c) == tasks && countVMs(t, c) == vms
			})
		})
	}
}

// importStalls are the two ways a host goes silent after an import's body:
// after its answer head (XAPI sends it before reading the body) or before.
var importStalls = []struct {
	name  string
	fault xapisim.ImportStall
}{{"after the head", xapisim.ImportStallAfterHead}, {"no head", xapisim.ImportStallNoHead}}

// TestSimImportSilentAfterBodyFails: a host that has read the whole body
// and then neither answers nor closes the connection fails the import as
// stalled, whether its answer head came first (as XAPI sends it) or never
// came (the body went after headWait), and the import leaves no task and
// no VM behind.
func TestSimImportSilentAfterBodyFails(t *testing.T) {
	for _, stall := range importStalls {
		for _, known := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/known size %v", stall.name, known), func(t *testing.T) {
				sim, c, vm, _ := stallSetup(t, xapi.WithStallTimeout(stallTimeout), xapi.WithHeadWait(stallTimeout/3))
				path, size := exportToFile(t, c, vm, "")
				if !known {
					size = -1
				}
				tasks, vms := countTasks(t, c), countVMs(t, c)
				sim.SetFaults(xapisim.Faults{StallAfterImport: stall.fault})
				err := returns(t, "an import the host left silent after the body", func() error {
					f, err := os.Open(path)
					if err != nil {
						return err
					}
					defer f.Close()
					_, err = c.Import(context.Background(), struct{ io.Reader }{f}, size, xapi.ImportOptions{})
					return err
				})
				wantStalled(t, err)
				if !strings.Contains(err.Error(), "after the body") {
					t.Fatalf("err = %v, want it to say the host was silent after the body", err)
				}
				testsupport.Eventually(t, 10*time.Second, "the import's task and VM to be gone", func() bool {
					return countTasks(t, c) == tasks && countVMs(t, c) == vms
				})
			})
		}
	}
}

// TestSimImportLateAnswerIsNoStall: a host that is silent after the body
// for less than the stall timeout, then answers and closes, imports the VM.
func TestSimImportLateAnswerIsNoStall(t *testing.T) {
	for _, stall := range importStalls {
		t.Run(stall.name, func(t *testing.T) {
			sim, c, vm, _ := stallSetup(t, xapi.WithStallTimeout(10*time.Second), xapi.WithHeadWait(stallTimeout/3))
			path, size := exportToFile(t, c, vm, "")
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			received := sim.Stats().Bytes["import"]
			sim.SetFaults(xapisim.Faults{StallAfterImport: stall.fault})
			done := make(chan error, 1)
			go func() {
				_, err := c.Import(context.Background(), struct{ io.Reader }{f}, size, xapi.ImportOptions{})
				done <- err
			}()
			testsupport.Eventually(t, 10*time.Second, "the body to be received", func() bool {
				return sim.Stats().Bytes["import"]-received == size
			})
			sim.SetFaults(xapisim.Faults{})
			if err := returns(t, "an import answered late", func() error { return <-done }); err != nil {
				t.Fatalf("an import answered within the stall timeout: %v", err)
			}
		})
	}
}

// TestSimImportStalledAnswerFails: a host that starts its answer to the
// request head and then says nothing, neither finishing it nor closing
// the connection, fails the import as stalled, and the import leaves no
// task and no VM behind: a head that stops after its status line, before
// the body (as XAPI answers) or once the endless body has started (the
// head came after headWait; the host reads on), and a 500 whose page stops
// short of its Content-Length.
func TestSimImportStalledAnswerFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults xapisim.Faults
		opt    xapi.Option
		want   string // in the error
	}{
		{"head cut short", xapisim.Faults{StallImportHead: true},
			xapi.WithHeadWait(30 * time.Second), "read response: the host said nothing"},
		{"head cut short during the body", xapisim.Faults{StallImportHead: true, FirstByteDelay: stallTimeout / 3},
			xapi.WithHeadWait(stallTimeout / 6), "read response: the host said nothing"},
		{"error page cut short", xapisim.Faults{StallImportError: true},
			xapi.WithHeadWait(30 * time.Second), "HTTP 500"},
	} {
		for _, size := range []int64{-1, 1 << 40} {
			t.Run(fmt.Sprintf("%s/size %d", tt.name, size), func(t *testing.T) {
				sim, c, _, _ := stallSetup(t, xapi.WithStallTimeout(stallTimeout), tt.opt)
				tasks, vms := countTasks(t, c), countVMs(t, c)
				sim.SetFaults(tt.faults)
				err := returns(t, "an import whose answer stalled", func() error {
					_, err := c.Import(context.Background(), zeros{}, size, xapi.ImportOptions{})
					return err
				})
				wantStalled(t, err)
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "while answering") {
					t.Fatalf("err = %v, want it to say %q and that the host stopped while answering", err, tt.want)
				}
				testsupport.Eventually(t, 10*time.Second, "the import's task and VM to be gone", func() bool {
					return countTasks(t, c) == tasks && countVMs(t, c) == vms
				})
			})
		}
	}
}

// TestSimImportSlowBodyIsNoStall: the answer head comes first (as XAPI
// sends it) and the body then takes several stall timeouts to come from
// the caller: the import succeeds, the bound on reading the answer never
// covering the time the body takes.
func TestSimImportSlowBodyIsNoStall(t *testing.T) {
	_, c, vm, _ := stallSetup(t, xapi.WithStallTimeout(stallTimeout))
	path, size := exportToFile(t, c, vm, "")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = returns(t, "an import with a slow body", func() error {
		_, err := c.Import(context.Background(), &slowReader{r: f, sleeps: 3}, size, xapi.ImportOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("an import whose body came slowly: %v", err)
	}
}

// TestSimImportRedirectPageIsNotAwaited: a 302 that comes keep-alive with
// a page it never finishes (as a proxy might send it) is followed at once,
// without waiting for the rest of a page the client has no use for. The
// stall timeout is the default one, so that a wait bounded by it would
// still block the test.
func TestSimImportRedirectPageIsNotAwaited(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	path, size := exportToFile(t, c, xapi.VMRef(vmNamed(t, sim, "vm-02").Ref), "")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sim.SetFaults(xapisim.Faults{StallImportRedirect: true})
	var vm xapi.VMRef
	err = returns(t, "an import redirected by a 302 whose page never ends", func() error {
		var err error
		vm, err = c.Import(context.Background(), f, size, xapi.ImportOptions{SR: xapi.SRRef(sim.LocalSR(1))})
		return err
	})
	if err != nil {
		t.Fatalf("import through a 302 whose page never ends: %v", err)
	}
	if rec, _ := c.VDIRecord(context.Background(), disksOf(t, c, vm)[0]); string(rec.SR) != sim.LocalSR(1) {
		t.Fatalf("the imported disk is on %s, want host 2's SR", rec.SR)
	}
}
