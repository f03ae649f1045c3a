package xapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"xbr/shared/xapi/xmlrpc"
)

// fakeReply is what a fake XAPI method returns: a value, or a failure.
type fakeReply struct {
	value   any
	failure []string
	raw     string // a raw response body, sent as is (for garbage)
}

// fakeXAPI serves XML-RPC from a table of methods. It stands in for XAPI only
// where the simulator cannot produce the case (garbage, hostile values).
func fakeXAPI(t *testing.T, methods map[string]func(params []any) fakeReply) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(fakeHandler(t, methods))
	t.Cleanup(srv.Close)
	return srv
}

func fakeHandler(t *testing.T, methods map[string]func(params []any) fakeReply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		method, params, err := xmlrpc.DecodeCall(body)
		if err != nil {
			t.Errorf("fake XAPI: bad call: %v", err)
			http.Error(w, "bad call", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		h, ok := methods[method]
		if !ok {
			_, _ = w.Write(xmlrpc.EncodeFailure([]string{"MESSAGE_METHOD_UNKNOWN", method}))
			return
		}
		rep := h(params)
		switch {
		case rep.raw != "":
			_, _ = io.WriteString(w, rep.raw)
		case rep.failure != nil:
			_, _ = w.Write(xmlrpc.EncodeFailure(rep.failure))
		default:
			out, err := xmlrpc.EncodeSuccess(rep.value)
			if err != nil {
				t.Errorf("fake XAPI: encode %s: %v", method, err)
			}
			_, _ = w.Write(out)
		}
	})
}

// loginOK is the login method of a fake XAPI.
func loginOK(params []any) fakeReply { return fakeReply{value: "OpaqueRef:session-1"} }
