package xapisim_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

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
