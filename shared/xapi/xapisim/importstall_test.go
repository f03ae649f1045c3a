package xapisim_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/shared/xapi/xapisim"
)

// TestImportStallHead: with StallImportHead, /import sends the status line
// of its answer and then nothing, the rest of the head never coming, the
// connection open and the task pending. Cancelling the task ends the
// answer (the connection closes) and the task; a client that goes away
// fails it.
func TestImportStallHead(t *testing.T) {
	s, url := newSim(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	sess := login(t, s, url)
	s.SetFaults(xapisim.Faults{StallImportHead: true})

	task, conn, br := putHead(t, url, sess)
	if line, err := br.ReadString('\n'); line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("status line %q, %v", line, err)
	}
	wantSilence(t, conn, br)
	if rec, _ := s.Record("task", task); rec["status"] != "pending" {
		t.Fatalf("task %v while the head stalls, want pending", rec["status"])
	}
	must(t, url, "task.cancel", sess, task)
	if rest, err := io.ReadAll(br); len(rest) != 0 || err != nil {
		t.Fatalf("after the cancel: %q, %v; want the connection closed", rest, err)
	}
	conn.Close()
	if rec := taskDone(t, s, task); rec["status"] != "cancelled" {
		t.Fatalf("cancelled task: %v", rec["status"])
	}

	task, conn, _ = putHead(t, url, sess)
	conn.Close()
	if rec := taskDone(t, s, task); rec["status"] != "failure" {
		t.Fatalf("task of a client gone: %v, want failure", rec["status"])
	}
}

// TestImportStallError: with StallImportError, /import answers 500 with
// the Content-Length of its whole error page but only its first bytes,
// then nothing, the connection open; the caller's task is left alone.
func TestImportStallError(t *testing.T) {
	s, url := newSim(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	sess := login(t, s, url)
	s.SetFaults(xapisim.Faults{StallImportError: true})

	task, conn, br := putHead(t, url, sess)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusInternalServerError || resp.ContentLength <= xapisim.StalledPageBytes {
		t.Fatalf("answer %s, Content-Length %d; want 500 announcing more than %d bytes",
			resp.Status, resp.ContentLength, xapisim.StalledPageBytes)
	}
	page := make([]byte, xapisim.StalledPageBytes)
	if _, err := io.ReadFull(resp.Body, page); err != nil || !strings.HasPrefix(string(page), "<html>") {
		t.Fatalf("page %q, %v", page, err)
	}
	wantSilence(t, conn, br)
	if rec, _ := s.Record("task", task); rec["status"] != "pending" {
		t.Fatalf("task %v, want it left alone (pending)", rec["status"])
	}
}

// putHead sends the head of an import under a new task, as a client that
// waits for the answer before it sends the body, and returns the task, the
// connection and its reader.
func putHead(t *testing.T, url, sess string) (string, net.Conn, *bufio.Reader) {
	t.Helper()
	task := must(t, url, "task.create", sess, "import", "").(string)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "PUT /import/?session_id=%s&task_id=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", sess, task); err != nil {
		t.Fatal(err)
	}
	return task, conn, bufio.NewReader(conn)
}

// wantSilence fails the test unless nothing more comes on conn for a while.
func wantSilence(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := br.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("byte %q, %v; want silence", b, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
}

// TestPoolImportStallRedirect: with StallImportRedirect, /import for
// another host's SR answers 302 keep-alive, announcing a page of which
// only the first bytes come; then nothing more comes.
func TestPoolImportStallRedirect(t *testing.T) {
	s, urls, hc := newPool(t, 2)
	v, _, _ := poolCall(t, hc, urls[0], nil, "session.login_with_password", "root", "xapisim")
	s.SetFaults(xapisim.Faults{StallImportRedirect: true})
	imp := "/import?session_id=" + v.(string) + "&sr_id=" + s.LocalSR(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, urls[0]+imp, strings.NewReader(""))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != urls[1]+imp || resp.Close ||
		resp.ContentLength <= xapisim.StalledPageBytes {
		t.Fatalf("answer %s to %q, close %v, Content-Length %d; want a keep-alive 302 to host 2 announcing more than %d bytes",
			resp.Status, resp.Header.Get("Location"), resp.Close, resp.ContentLength, xapisim.StalledPageBytes)
	}
	page := make([]byte, xapisim.StalledPageBytes)
	if _, err := io.ReadFull(resp.Body, page); err != nil || !strings.HasPrefix(string(page), "<html>") {
		t.Fatalf("page %q, %v", page, err)
	}
	more := make(chan error, 1)
	go func() { _, err := resp.Body.Read(make([]byte, 1)); more <- err }()
	select {
	case err := <-more:
		t.Fatalf("after the first bytes of the page: %v; want silence", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	<-more
}
