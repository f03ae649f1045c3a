package xapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xbr/shared/xapi"
)

// TestJSONRPCResponseShapes covers JSON-RPC answers the simulator does not
// give: the v1 error array, and a host without JSON-RPC.
func TestJSONRPCResponseShapes(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		code, wantErr           string
	}{
		{"v1 error", "application/json", `{"result":null,"error":["SESSION_AUTHENTICATION_FAILED","root","Authentication failure"],"id":1}`, xapi.CodeAuthFailed, ""},
		{"v2 error", "application/json", `{"jsonrpc":"2.0","error":{"code":1,"message":"RBAC_PERMISSION_DENIED","data":["session.login_with_password","denied"]},"id":1}`, "RBAC_PERMISSION_DENIED", ""},
		{"not json-rpc", "text/html", `<html>not here</html>`, "", "does this XAPI serve JSON-RPC"},
		{"garbage", "application/json", `{"result":`, "", "decode JSON-RPC response"},
		{"neither", "application/json", `{"id":1}`, "", "neither result nor error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if r.URL.Path != "/jsonrpc" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request to %s with content type %q", r.URL.Path, r.Header.Get("Content-Type"))
				}
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c, _ := xapi.New(srv.URL, xapi.WithTransport(xapi.JSONRPC))
			err := c.Login(context.Background(), "root", "pw")
			var xe *xapi.Error
			if tt.code != "" && (!errors.As(err, &xe) || xe.Code != tt.code) {
				t.Fatalf("Login = %v, want *Error %s", err, tt.code)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Login = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
