package xapisim_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestImportBodyEndedByHalfClose is a client that announces a huge
// Content-Length (the body's size is unknown, as when an /export streams
// straight into /import) and ends the body with a TCP half-close. The end
// of the body is not a cancellation: the import succeeds however early the
// simulator sees the half-close (here, before it reads a byte).
func TestImportBodyEndedByHalfClose(t *testing.T) {
	for _, codec := range []struct{ name, query string }{
		{"plain", ""}, {"gzip", "&use_compression=true"}, {"zstd", "&use_compression=zstd"},
	} {
		t.Run(codec.name, func(t *testing.T) {
			s, url := newSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20})
			sess := login(t, s, url)
			vm := vmByName(t, s, "vm-02") // halted
			_, body := export(t, url, sess, vm.Ref, codec.query)
			// Everything, the half-close included, is queued before the
			// simulator takes the connection over. Whether a decoder's
			// read-ahead meets the end before the import checks for
			// cancellation is a race: ten imports make a regression show.
			s.SetFaults(xapisim.Faults{FirstByteDelay: 20 * time.Millisecond})
			for i := range 10 {
				task := must(t, url, "task.create", sess, "import", "").(string)
				head, conn := rawPutHalfClosed(t, url, "/import/?session_id="+sess+"&task_id="+task,
					"Content-Length: 1125899906842624\r\n", body)
				if !strings.HasPrefix(head, "HTTP/1.1 200") {
					t.Fatalf("import %d: head %q", i, head)
				}
				got, _ := s.VM(importedVM(t, taskDone(t, s, task)))
				conn.Close()
				if !bytes.Equal(vdiBytes(t, s, got.VDIs[0]), vdiBytes(t, s, vm.VDIs[0])) {
					t.Fatalf("import %d: disk differs from the source's", i)
				}
			}
		})
	}
}

// rawPutHalfClosed writes a hand-made PUT with body, closes the write side
// and returns the response head and the connection.
func rawPutHalfClosed(t *testing.T, url, path, headers string, body []byte) (string, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path, headers); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	head, err := bufio.NewReader(conn).ReadString('\r')
	if err != nil {
		conn.Close()
		t.Fatalf("reading the response head: %v", err)
	}
	return head, conn
}

// TestImportStallAfterBody: with StallAfterImport the simulator reads the
// whole archive, then writes nothing more and keeps the connection open,
// the task pending, its answer head sent first (as XAPI sends it) or held
// back. Clearing the fault lets the import finish and answer; cancelling
// the task ends it with no VM left behind.
func TestImportStallAfterBody(t *testing.T) {
	for _, tt := range []struct {
		name  string
		stall xapisim.ImportStall
	}{{"after the head", xapisim.ImportStallAfterHead}, {"no head", xapisim.ImportStallNoHead}} {
		t.Run(tt.name, func(t *testing.T) {
			s, url := newSim(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20})
			sess := login(t, s, url)
			_, body := export(t, url, sess, vmByName(t, s, "vm-02").Ref, "")
			vms := len(s.VMs())

			s.SetFaults(xapisim.Faults{StallAfterImport: tt.stall})
			task, conn, br := stalledImport(t, s, url, sess, body, tt.stall == xapisim.ImportStallAfterHead)
			s.SetFaults(xapisim.Faults{})
			rest, err := io.ReadAll(br)
			if tt.stall == xapisim.ImportStallNoHead && !strings.HasPrefix(string(rest), "HTTP/1.1 200") {
				t.Fatalf("the held-back head: %q, %v", rest, err)
			}
			conn.Close()
			importedVM(t, taskDone(t, s, task))

			s.SetFaults(xapisim.Faults{StallAfterImport: tt.stall})
			task, conn, br = stalledImport(t, s, url, sess, body, tt.stall == xapisim.ImportStallAfterHead)
			must(t, url, "task.cancel", sess, task)
			_, _ = io.ReadAll(br) // the connection closes
			conn.Close()
			if rec := taskDone(t, s, task); rec["status"] != "cancelled" || len(s.VMs()) != vms+1 {
				t.Fatalf("cancelled: task %v, %d VMs, want %d", rec["status"], len(s.VMs()), vms+1)
			}
		})
	}
}

// stalledImport sends body to /import and checks that the simulator reads
// all of it and then stays silent, the task pending, after the answer head
// when head says so. It returns the task, the connection and its reader.
func stalledImport(t *testing.T, s *xapisim.Server, url, sess string, body []byte, head bool) (string, net.Conn, *bufio.Reader) {
	t.Helper()
	task := must(t, url, "task.create", sess, "import", "").(string)
	before := s.Stats().Bytes["import"]
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT /import/?session_id=%s&task_id=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", sess, task, len(body))
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "the body to be read", func() bool {
		return s.Stats().Bytes["import"]-before == int64(len(body))
	})
	br := bufio.NewReader(conn)
	if head {
		if line, err := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("head %q, %v", line, err)
		}
		for line := ""; line != "\r\n"; {
			if line, err = br.ReadString('\n'); err != nil {
				t.Fatalf("reading the head: %v", err)
			}
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := br.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the body: byte %q, %v; want silence", b, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	if rec, _ := s.Record("task", task); rec["status"] != "pending" {
		t.Fatalf("task %v during the stall, want pending", rec["status"])
	}
	return task, conn, br
}
