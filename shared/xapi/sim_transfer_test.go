package xapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xbr/shared/compress"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

func TestSimExport(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			vm, _ := plainVM(t, c, xapi.Halted)
			want, _ := diskSum(t, c, disksOf(t, c, vm)[0])
			for _, tt := range []struct {
				compression string
				codec       compress.Codec
			}{{"", compress.None}, {"gzip", compress.Gzip}, {"zstd", compress.Zstd}} {
				t.Run("compression="+tt.compression, func(t *testing.T) {
					tr, err := c.Export(context.Background(), vm, xapi.ExportOptions{Compression: tt.compression})
					if err != nil {
						t.Fatal(err)
					}
					codec, sums := readXVA(t, tr)
					if err := tr.Close(); err != nil {
						t.Fatalf("Close = %v, want the task's success", err)
					}
					if codec != tt.codec || len(sums) != 1 || sums[0] != want {
						t.Fatalf("codec %s, %d disks; want %s, 1 disk equal to the VM's", codec, len(sums), tt.codec)
					}
				})
			}
		})
	}
}

// readXVA decodes an XVA stream with shared/xva and returns its codec and the
// SHA-256 of each disk.
func readXVA(t *testing.T, r io.Reader) (compress.Codec, [][32]byte) {
	t.Helper()
	xr, err := xva.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var sums [][32]byte
	for {
		_, disk, err := xr.NextDisk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sha256Of(t, disk))
	}
	codec := xr.Codec()
	if err := xr.Close(); err != nil {
		t.Fatal(err)
	}
	// The archive is over; reading on reaches the transfer's end, where the
	// task is checked.
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("end of the transfer: %v", err)
	}
	return codec, sums
}

func TestSimExportRunningVM(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			vm, _ := plainVM(t, c, xapi.Running)
			tr, err := c.Export(context.Background(), vm, xapi.ExportOptions{})
			var xe *xapi.Error
			if !errors.As(err, &xe) || xe.Code != xapi.CodeBadPowerState {
				if tr != nil {
					tr.Close()
				}
				t.Fatalf("Export of a running VM = %v, want VM_BAD_POWER_STATE", err)
			}
		})
	}
}

func TestSimExportDroppedConnectionIsAnError(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{})
	c := connect(t, url, xapi.XMLRPC)
	vm, _ := plainVM(t, c, xapi.Halted)
	sim.SetFaults(xapisim.Faults{DropAfter: 100 << 10})
	tr, err := c.Export(context.Background(), vm, xapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	n, err := io.Copy(io.Discard, tr)
	if err == nil {
		t.Fatalf("a stream cut after %d bytes read as complete", n)
	}
}

// exportToFile exports vm to a file and returns its path and size.
func exportToFile(t *testing.T, c *xapi.Client, vm xapi.VMRef, compression string) (string, int64) {
	t.Helper()
	tr, err := c.Export(context.Background(), vm, xapi.ExportOptions{Compression: compression})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vm.xva")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := io.Copy(f, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return path, n
}

func TestSimImportRoundTrip(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			want, wantSize := diskSum(t, c, disksOf(t, c, vm)[0])
			for _, tt := range []struct {
				name        string
				compression string
				knownSize   bool
			}{{"known size", "", true}, {"unknown size", "", false}, {"zstd unknown size", "zstd", false}} {
				t.Run(tt.name, func(t *testing.T) {
					path, size := exportToFile(t, c, vm, tt.compression)
					f, err := os.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if !tt.knownSize {
						size = -1
					}
					// Hide *os.File so the body is a plain stream.
					newVM, err := c.Import(ctx, struct{ io.Reader }{f}, size, xapi.ImportOptions{})
					if err != nil {
						t.Fatal(err)
					}
					rec, err := c.VMRecord(ctx, newVM)
					if err != nil || rec.PowerState != xapi.Halted || newVM == vm {
						t.Fatalf("imported VM %s: %+v, %v", newVM, rec, err)
					}
					disks := disksOf(t, c, newVM)
					if len(disks) != 1 {
						t.Fatalf("imported VM has %d disks", len(disks))
					}
					got, gotSize := diskSum(t, c, disks[0])
					if got != want || gotSize != wantSize {
						t.Fatalf("imported disk (%d bytes) differs from the source (%d bytes)", gotSize, wantSize)
					}
				})
			}
		})
	}
}

// failingReader returns data, then an error: a stream that failed verification.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestSimImportAbortLeavesNoVM(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			path, size := exportToFile(t, c, vm, "")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			vms, vdis := countVMs(t, c), countVDIs(t, c)
			broken := errors.New("checksum mismatch")
			for _, tt := range []struct {
				name string
				body io.Reader
				size int64
			}{
				{"error mid-stream, unknown size", &failingReader{bytes.NewReader(data[:size/2]), broken}, -1},
				{"error mid-stream, known size", &failingReader{bytes.NewReader(data[:size/2]), broken}, size},
				{"error after the whole archive", &failingReader{bytes.NewReader(data), broken}, -1},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := c.Import(ctx, tt.body, tt.size, xapi.ImportOptions{})
					if !errors.Is(err, broken) {
						t.Fatalf("Import = %v, want the body's error", err)
					}
					testsupport.Eventually(t, 10*time.Second, "the partial import to be removed", func() bool {
						return countVMs(t, c) == vms && countVDIs(t, c) == vdis
					})
				})
			}
		})
	}
}

func TestSimImportCancelLeavesNoVM(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{})
	c := connect(t, url, xapi.XMLRPC)
	vm, _ := plainVM(t, c, xapi.Halted)
	path, _ := exportToFile(t, c, vm, "")
	vms := countVMs(t, c)
	sim.SetFaults(xapisim.Faults{RateLimit: 512 << 10}) // slow enough to be cancelled mid-stream
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	body := &cancelAfter{r: f, n: 256 << 10, cancel: cancel}
	if _, err := c.Import(ctx, body, -1, xapi.ImportOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Import = %v, want context.Canceled", err)
	}
	sim.SetFaults(xapisim.Faults{})
	testsupport.Eventually(t, 10*time.Second, "the cancelled import to be removed", func() bool { return countVMs(t, c) == vms })
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}
