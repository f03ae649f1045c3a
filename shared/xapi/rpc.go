package xapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// maxResponse bounds an RPC response body (get_all_records of a large pool
// is a few MiB).
const maxResponse = 256 << 20

// rpc sends one call on the configured transport. It does not touch the
// session; params are sent as given.
func (c *Client) rpc(ctx context.Context, method string, params []any) (any, error) {
	if c.opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.timeout)
		defer cancel()
	}
	for i := range params {
		params[i] = normalize(params[i])
	}
	var fo failover
	for hop := 0; ; {
		v, thumb, err := c.send(ctx, method, params)
		// A host that is no longer the master answers HOST_IS_SLAVE
		// [master address] to a login and to a call with a user session
		// (xen-api ocaml/xapi/xapi_session.ml, session_check.ml); the
		// session lives in the pool database, so the call is repeated there.
		var xe *Error
		if errors.As(err, &xe) && xe.Code == CodeHostIsSlave && len(xe.Params) > 0 && hop < 3 {
			hop++
			ferr := c.followMaster(xe.Params[0], thumb)
			if ferr == nil {
				continue
			}
			err = errors.Join(err, ferr)
		}
		// A master that cannot be reached may have died and HA made
		// another host master: the call, which never left, goes to the
		// pool's other hosts in turn (see failover.go).
		if unreachable(err) && ctx.Err() == nil && fo.next(c, err) {
			continue
		}
		// A failover that ends on a host that did not answer as XAPI
		// (it cannot be reached or trusted, or the connection was cut)
		// leaves the client on its master, not on that host.
		if err != nil && !errors.As(err, &xe) {
			err = fo.giveUp(c, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		return v, nil
	}
}

// send posts the call once to the current master.
func (c *Client) send(ctx context.Context, method string, params []any) (any, string, error) {
	start := time.Now()
	var v any
	var thumb string
	var err error
	if c.transport() == JSONRPC {
		v, thumb, err = c.jsonRPC(ctx, method, params)
	} else {
		v, thumb, err = c.xmlRPC(ctx, method, params)
	}
	c.opts.logger.Debug("xapi call", "method", method, "duration", time.Since(start), "error", err)
	return v, thumb, err
}

func (c *Client) xmlRPC(ctx context.Context, method string, params []any) (any, string, error) {
	body, err := xmlrpc.EncodeCall(method, params)
	if err != nil {
		return nil, "", err
	}
	data, thumb, err := c.post(ctx, "/", "text/xml", body)
	if err != nil {
		return nil, "", err
	}
	v, err := xmlrpc.DecodeResponse(data)
	if err != nil {
		return nil, "", fmt.Errorf("decode XML-RPC response: %w", err)
	}
	v, err = unwrapEnvelope(v)
	return v, thumb, err
}

// unwrapEnvelope reads XAPI's {Status, Value | ErrorDescription} struct: XAPI
// never uses XML-RPC faults for API errors.
func unwrapEnvelope(v any) (any, error) {
	m, ok := xmlrpc.AsMap(v)
	if !ok {
		return nil, fmt.Errorf("response is %s, not a Status struct", describeValue(v))
	}
	switch status := m["Status"]; status {
	case "Success":
		return m["Value"], nil
	case "Failure":
		desc, ok := xmlrpc.AsStrings(m["ErrorDescription"])
		if !ok {
			return nil, fmt.Errorf("failure ErrorDescription is %s, not a string array", describeValue(m["ErrorDescription"]))
		}
		return nil, newError(desc)
	default:
		return nil, fmt.Errorf("response Status is %s, want Success or Failure", describeValue(status))
	}
}

func (c *Client) jsonRPC(ctx context.Context, method string, params []any) (any, string, error) {
	id := c.rpcID.Add(1)
	body := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":`, id)
	var err error
	if body, err = xmlrpc.AppendJSON(body, method); err != nil {
		return nil, "", err
	}
	body = append(body, `,"params":`...)
	if body, err = xmlrpc.AppendJSON(body, params); err != nil {
		return nil, "", err
	}
	body = append(body, '}')
	data, thumb, err := c.post(ctx, "/jsonrpc", "application/json", body)
	if err != nil {
		return nil, "", err
	}
	v, err := xmlrpc.DecodeJSON(data)
	if err != nil {
		return nil, "", fmt.Errorf("decode JSON-RPC response: %w", err)
	}
	v, err = unwrapJSON(v)
	return v, thumb, err
}

// unwrapJSON reads a JSON-RPC v2 ({error: {message, data}}) or v1
// ({error: [code, params...]}) response.
func unwrapJSON(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("JSON-RPC response is %s, not an object", describeValue(v))
	}
	switch e := m["error"].(type) {
	case nil:
		result, ok := m["result"]
		if !ok {
			return nil, errors.New("JSON-RPC response has neither result nor error")
		}
		return result, nil
	case map[string]any:
		code, ok := e["message"].(string)
		if !ok {
			return nil, fmt.Errorf("JSON-RPC error message is %s, not a string", describeValue(e["message"]))
		}
		params, _ := xmlrpc.AsStrings(e["data"])
		return nil, &Error{Code: code, Params: params}
	case []any:
		desc, ok := xmlrpc.AsStrings(e)
		if !ok {
			return nil, fmt.Errorf("JSON-RPC error is %s, not a string array", describeValue(e))
		}
		return nil, newError(desc)
	default:
		return nil, fmt.Errorf("JSON-RPC error is %s", describeValue(e))
	}
}

// post sends body to path and returns the response body of a 200 reply,
// and the master thumbprint XAPI adds to a HOST_IS_SLAVE answer.
func (c *Client) post(ctx context.Context, path, contentType string, body []byte) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path, nil).String(), bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	// Set explicitly: XAPI and its clients match content types exactly.
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(thumbprintRequest, "sha-256:master")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", stripURL(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, "", fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponse {
		return nil, "", fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("POST %s: HTTP %s: %q", path, resp.Status, xmlrpc.Excerpt(string(data)))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); contentType == "application/json" && mt != contentType {
		return nil, "", fmt.Errorf("POST %s: response content type %q, want %s (does this XAPI serve JSON-RPC?)", path, mt, contentType)
	}
	return data, resp.Header.Get(thumbprintResponse), nil
}

// stripURL drops the request URL from a transport error: transfer URLs carry
// the session id in their query.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactQuery(ue.URL), ue.Err)
	}
	return err
}

// redactQuery returns raw without its query string.
func redactQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// normalize converts typed refs and other named types to the plain values
// the codec encodes (string, []any, map[string]any, ...).
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64, time.Time, xmlrpc.I4:
		return v
	case int:
		return int64(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return int64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[fmt.Sprint(normalize(it.Key().Interface()))] = normalize(it.Value().Interface())
		}
		return out
	}
	return v
}

// describeValue renders a wire value briefly for error messages.
func describeValue(v any) string {
	return fmt.Sprintf("%T %s", v, xmlrpc.Excerpt(fmt.Sprintf("%q", fmt.Sprint(v))))
}
