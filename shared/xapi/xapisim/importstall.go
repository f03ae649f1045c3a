package xapisim

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"net/http"
)

// stallImportHead answers /import with the first line of its head and then
// nothing (Faults.StallImportHead), discarding any body. The task is
// cancelled when it is cancelled and fails when the client goes away.
func (s *Server) stallImportHead(w http.ResponseWriter, r *http.Request, task string) {
	x, err := s.hijack(w, "HTTP/1.1 200 OK\r\n")
	if err != nil {
		s.failTask(task, err)
		return
	}
	defer x.conn.Close()
	// Not r.Context(), as in receiveImport: task.cancel and Close end the wait.
	ctx, done := s.startWork(context.WithoutCancel(r.Context()), task)
	defer done()
	err = holdOpen(ctx, x.conn)
	s.failTask(task, cmp.Or(ctx.Err(), err))
}

// stallImportError answers /import HTTP 500 as a failed SR check does, but
// sends only the first StalledPageBytes of the page its Content-Length
// announces and then holds the connection open and silent
// (Faults.StallImportError) until the client goes away or the simulator
// closes. The caller's task is left alone, as XAPI leaves it.
func (s *Server) stallImportError(w http.ResponseWriter) {
	page := internalErrorPage(fail("NO_HOSTS_AVAILABLE"))
	head := fmt.Sprintf("HTTP/1.1 500 %s\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n",
		http.StatusText(http.StatusInternalServerError), len(page))
	s.holdAfter(w, head+page[:StalledPageBytes])
}

// stallImportRedirect answers /import 302 to host as a proxy might
// (Faults.StallImportRedirect): keep-alive, with a page of which only the
// first StalledPageBytes come, the connection then held open and silent
// until the client goes away or the simulator closes.
func (s *Server) stallImportRedirect(w http.ResponseWriter, r *http.Request, host string) {
	loc := s.redirectLocation(r, host)
	page := `<html><body><a href="` + html.EscapeString(loc) + `">Found</a></body></html>`
	head := fmt.Sprintf("HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n",
		loc, len(page))
	s.holdAfter(w, head+page[:StalledPageBytes])
}

// holdAfter writes answer on the hijacked connection and then holds it
// open and silent until the client goes away or the simulator closes.
func (s *Server) holdAfter(w http.ResponseWriter, answer string) {
	x, err := s.hijack(w, answer)
	if err != nil {
		return
	}
	defer x.conn.Close()
	ctx, cancel := s.untilClose()
	defer cancel()
	_ = holdOpen(ctx, x.conn)
}

// untilClose returns a context that ends when the simulator closes or when
// cancel is called.
func (s *Server) untilClose() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
