package nbd_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/shared/nbd"
	"xbr/shared/nbd/nbdserver"
)

// TestReadOverTLS: a verified TLS connection reads the export's bytes at
// any aligned offset, a read longer than MaxRequest included, and Close
// ends the connection cleanly (the server sees DISC).
func TestReadOverTLS(t *testing.T) {
	const size = nbd.MaxRequest + 3<<20
	var served int64
	var mu sync.Mutex
	f := serve(t, nbdserver.Export{Size: size, Data: pattern{size}}, func(c *nbdserver.Config) {
		c.OnRead = func(n int64) { mu.Lock(); served += n; mu.Unlock() }
	})
	c, err := nbd.Dial(context.Background(), f.config())
	if err != nil {
		t.Fatal(err)
	}
	if c.Size() != size || !c.Export().ReadOnly() {
		t.Fatalf("export: size %d read-only %v, want %d true", c.Size(), c.Export().ReadOnly(), size)
	}
	for _, r := range []struct{ off, n int64 }{{0, 512}, {512, 64 << 10}, {1 << 20, nbd.MaxRequest + 1<<20}, {size - 4096, 4096}} {
		buf := make([]byte, r.n)
		if err := c.Read(context.Background(), r.off, buf); err != nil {
			t.Fatalf("read %d+%d: %v", r.off, r.n, err)
		}
		for i, b := range buf {
			if b != byteAt(r.off+int64(i)) {
				t.Fatalf("read %d+%d: byte %d is %#x, want %#x", r.off, r.n, r.off+int64(i), b, byteAt(r.off+int64(i)))
			}
		}
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case <-f.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not end the connection after DISC")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := int64(512 + 64<<10 + nbd.MaxRequest + 1<<20 + 4096); served != want {
		t.Fatalf("server counted %d bytes read, want %d", served, want)
	}
	if err := c.Read(context.Background(), 0, make([]byte, 512)); !errors.Is(err, nbd.ErrClosed) {
		t.Fatalf("read after close: %v, want ErrClosed", err)
	}
}

// TestTLSVerified: a certificate other than the one given, or a subject the
// certificate does not name, fails the handshake.
func TestTLSVerified(t *testing.T) {
	f := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, nil)
	_, otherPEM := selfSigned(t, f.name)
	for name, cfg := range map[string]nbd.Config{
		"other cert":    func() nbd.Config { c := f.config(); c.CertPEM = otherPEM; return c }(),
		"wrong subject": func() nbd.Config { c := f.config(); c.ServerName = "host2.example"; return c }(),
	} {
		_, err := nbd.Dial(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "TLS handshake") {
			t.Errorf("%s: %v, want a TLS handshake error", name, err)
		}
	}
	bad := f.config()
	bad.CertPEM = "not a certificate"
	if _, err := nbd.Dial(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("garbage cert: %v", err)
	}
}

// TestErrorReply: the server's EINVAL to an unaligned read is an *Error
// naming the command, offset, length and errno; the connection goes on.
func TestErrorReply(t *testing.T) {
	f := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, nil)
	c := dial(t, f.config())
	err := c.Read(context.Background(), 100, make([]byte, 512))
	var e *nbd.Error
	if !errors.As(err, &e) || e.Errno != nbd.EINVAL || e.Offset != 100 || e.Length != 512 || e.Command != "NBD_CMD_READ" {
		t.Fatalf("unaligned read: %v, want an EINVAL *Error at 100+512", err)
	}
	if !strings.Contains(err.Error(), "NBD_CMD_READ offset 100 length 512") || !strings.Contains(err.Error(), "EINVAL (22)") {
		t.Fatalf("error text %q", err)
	}
	buf := make([]byte, 512)
	if err := c.Read(context.Background(), 512, buf); err != nil || buf[0] != byteAt(512) {
		t.Fatalf("read after an error reply: %v", err)
	}
	if err := c.Read(context.Background(), 1<<20-512, make([]byte, 1024)); err == nil || !strings.Contains(err.Error(), "outside the export") {
		t.Fatalf("read past the end: %v", err)
	}
}

// TestUnknownExport: the server closes instead of replying; the error
// says so and never holds the export name (it holds the session).
func TestUnknownExport(t *testing.T) {
	f := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, nil)
	cfg := f.config()
	cfg.ExportName = "/gone?session_id=OpaqueRef:other-secret"
	_, err := nbd.Dial(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "closed the connection") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("unknown export: %v", err)
	}
}

// TestModes: without TLS in insecure mode; refused connections fail Dial;
// a TLS client against a server without TLS is told TLS is refused.
func TestModes(t *testing.T) {
	plain := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, func(c *nbdserver.Config) {
		c.Mode = func() nbdserver.Mode { return nbdserver.ModePlain }
	})
	cfg := plain.config()
	cfg.CertPEM, cfg.Insecure = "", true
	c := dial(t, cfg)
	buf := make([]byte, 4096)
	if err := c.Read(context.Background(), 8192, buf); err != nil || buf[1] != byteAt(8193) {
		t.Fatalf("plain read: %v", err)
	}
	var oe *nbd.OptionError
	if _, err := nbd.Dial(context.Background(), plain.config()); !errors.As(err, &oe) || oe.Reply != nbd.RepErrPolicy {
		t.Fatalf("STARTTLS to a plain server: %v, want NBD_REP_ERR_POLICY", err)
	}
	refused := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, func(c *nbdserver.Config) {
		c.Mode = func() nbdserver.Mode { return nbdserver.ModeRefuse }
	})
	if _, err := nbd.Dial(context.Background(), refused.config()); err == nil {
		t.Fatal("a refusing server accepted a connection")
	}
	both := plain.config()
	both.Insecure = true
	if _, err := nbd.Dial(context.Background(), both); err == nil {
		t.Fatal("Insecure with a certificate was accepted")
	}
}

// stall is an export whose reads block until released.
type stall struct{ release chan struct{} }

func (s stall) ReadAt(b []byte, _ int64) (int, error) {
	<-s.release
	return len(b), nil
}

// TestCancelAndTimeout: a cancelled context or a silent server closes the
// connection; later calls get ErrClosed.
func TestCancelAndTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := serve(t, nbdserver.Export{Size: 1 << 20, Data: stall{release}}, nil)
	c := dial(t, f.config())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Read(ctx, 0, make([]byte, 512)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read with a context that ends: %v", err)
	}
	if err := c.Read(context.Background(), 0, make([]byte, 512)); !errors.Is(err, nbd.ErrClosed) {
		t.Fatalf("read after a cancelled read: %v, want ErrClosed", err)
	}
	cfg := f.config()
	cfg.Timeout = 100 * time.Millisecond
	c2 := dial(t, cfg)
	err := c2.Read(context.Background(), 0, make([]byte, 512))
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("read from a silent server: %v, want a timeout", err)
	}
	if err := c2.Read(context.Background(), 0, make([]byte, 512)); !errors.Is(err, nbd.ErrClosed) {
		t.Fatalf("read after a timeout: %v, want ErrClosed", err)
	}
}

// TestConnectionLimit: connections beyond MaxConns are closed at once.
func TestConnectionLimit(t *testing.T) {
	f := serve(t, nbdserver.Export{Size: 1 << 20, Data: pattern{1 << 20}}, func(c *nbdserver.Config) { c.MaxConns = 1 })
	c := dial(t, f.config())
	if _, err := nbd.Dial(context.Background(), f.config()); err == nil {
		t.Fatal("a second connection was served beyond MaxConns 1")
	}
	if err := c.Read(context.Background(), 0, make([]byte, 512)); err != nil {
		t.Fatalf("the first connection: %v", err)
	}
}
