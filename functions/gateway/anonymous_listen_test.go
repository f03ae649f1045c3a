package gateway_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"xbr/functions/gateway"
)

// everywhere is a loopback listener that reports the address of a gateway
// started with --http 0.0.0.0:8080, which the test may not bind.
type everywhere struct{ net.Listener }

func (everywhere) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero, Port: 8080} }

// TestServeRefusesAnAnonymousPageBeyondLoopback: "the web page has a login
// unless it listens on loopback only" (architecture §10); config check
// refuses gateway.listen beyond loopback with no login and no
// allow_anonymous. `xbr serve --http 0.0.0.0:8080` with such a
// configuration must not serve the page to anyone who reaches the port
// (it can restore VMs and fail over): today it logs a warning and serves
// it, with every IP address accepted as Host.
func TestServeRefusesAnAnonymousPageBeyondLoopback(t *testing.T) {
	h := newHarness(t) // its configuration has no users_file, no proxy header, no allow_anonymous
	h.env.HTTPListen = "0.0.0.0:8080"
	s, err := gateway.New(h.env)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	real := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, everywhere{ln}) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return // refused: the page is not served
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+real+"/restore", nil)
		req.Host = "192.0.2.10:8080" // the server's LAN address, as a colleague's browser sends it
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("GET /restore without a login on a gateway listening on 0.0.0.0: %s (the restore forms are open to anyone who reaches the port)", resp.Status)
		}
		return
	}
	t.Fatal("the gateway neither answered nor refused to serve")
}
