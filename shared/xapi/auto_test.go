package xapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestAutoTransport: Auto speaks JSON-RPC to a host that serves /jsonrpc,
// falls back to XML-RPC on one that does not, and reports a wrong password
// without falling back.
func TestAutoTransport(t *testing.T) {
	sim, url := startSim(t, xapisim.Options{})
	xmlOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/jsonrpc") {
			http.NotFound(w, r)
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer xmlOnly.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name, url, path string
	}{{"json host", url, "/jsonrpc"}, {"xml-only host", xmlOnly.URL, "/"}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := xapi.New(tc.url, xapi.WithTransport(xapi.Auto))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Login(ctx, simUser, simPassword); err != nil {
				t.Fatal(err)
			}
			before := sim.Requests()[tc.path]
			if _, err := c.VMs(ctx); err != nil {
				t.Fatal(err)
			}
			if sim.Requests()[tc.path] != before+1 {
				t.Errorf("VM.get_all_records was not sent to %s", tc.path)
			}
		})
	}
	c, _ := xapi.New(url, xapi.WithTransport(xapi.Auto))
	if err := c.Login(ctx, simUser, "wrong"); !xapi.IsCode(err, "SESSION_AUTHENTICATION_FAILED") {
		t.Errorf("wrong password: %v", err)
	}
}
