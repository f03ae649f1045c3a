package nbd_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"xbr/shared/nbd"
)

// blackhole is a 127.0.0.1 address whose SYNs go unanswered: a socket
// listening with a backlog of 0 and a full accept queue, as a host whose
// NBD address is not routed from here looks to a client.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the accept queue; later SYNs are dropped.
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	return addr
}

// TestDialTimeoutBoundsConnect: Config.Timeout bounds every I/O step, the
// TCP connect included. An NBD address that does not answer (a host of
// the pool whose NBD network is not routed from here: Xen Orchestra's
// PR #7836) must fail Dial within about Timeout, not the kernel's SYN
// retries (about 2 minutes on Linux, paid per disk and per record by the
// incremental worker's dial loop) when the caller's context has no
// deadline.
func TestDialTimeoutBoundsConnect(t *testing.T) {
	addr := blackhole(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // only to end the test
	defer cancel()
	start := time.Now()
	_, err := nbd.Dial(ctx, nbd.Config{Address: addr, ExportName: "x", Insecure: true, Timeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("dial to an address that never answers succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dial with Timeout 300ms took %v (%v): the connect is bounded only by the context", d.Round(time.Millisecond), err)
	}
}
