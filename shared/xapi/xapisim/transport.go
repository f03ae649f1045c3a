package xapisim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"xbr/shared/xapi/xmlrpc"
)

// maxRPCBody bounds an RPC request body.
const maxRPCBody = 16 << 20

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRPCBody+1))
	if err == nil && len(b) > maxRPCBody {
		err = fmt.Errorf("request body larger than %d bytes", maxRPCBody)
	}
	return b, err
}

func writeRPC(w http.ResponseWriter, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	corsHeaders(h)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serveXMLRPC answers POST / (and any path other than /jsonrpc*).
func (s *Server) serveXMLRPC(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	name, params, err := xmlrpc.DecodeCall(body)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	if name == "system.listMethods" {
		s.countCall(name)
		out, _ := xmlrpc.EncodeRaw(s.listMethods())
		writeRPC(w, "text/xml", out)
		return
	}
	v, err := s.dispatch(r.Context(), name, params)
	s.thumbprintHeader(w, r, err)
	var out []byte
	if err == nil {
		out, err = xmlrpc.EncodeSuccess(v)
	}
	if err != nil {
		out = xmlrpc.EncodeFailure(asFailure(err).Description())
	}
	writeRPC(w, "text/xml", out)
}

// jsonRequest is a JSON-RPC v1 or v2 request envelope.
type jsonRequest struct {
	JSONRPC *string         `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// serveJSONRPC answers POST /jsonrpc: v2 when "jsonrpc":"2.0", else v1.
func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	var req jsonRequest
	if err := json.Unmarshal(body, &req); err != nil || !validID(req.ID) || req.Method == "" {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	v2 := req.JSONRPC != nil && *req.JSONRPC == "2.0"
	params, ok := jsonParams(req.Params, v2)
	if !ok {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	var v any
	if req.Method == "system.listMethods" {
		s.countCall(req.Method)
		v = s.listMethods()
	} else {
		v, err = s.dispatch(r.Context(), req.Method, params)
		s.thumbprintHeader(w, r, err)
	}
	out, err := encodeJSONResponse(v, err, req.ID, v2)
	if err != nil {
		out, _ = encodeJSONResponse(nil, err, req.ID, v2)
	}
	writeRPC(w, "application/json", out)
}

// validID accepts the ids XAPI accepts: an integer or a string.
func validID(id json.RawMessage) bool {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || string(id) == "null" {
		return false
	}
	if id[0] == '"' {
		return json.Valid(id)
	}
	_, err := strconv.ParseInt(string(id), 10, 64)
	return err == nil
}

func jsonParams(raw json.RawMessage, v2 bool) ([]any, bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []any{}, v2
	}
	v, err := xmlrpc.DecodeJSON(raw)
	if err != nil {
		return nil, false
	}
	params, ok := v.([]any)
	return params, ok
}

// encodeJSONResponse renders a result or an error in XAPI's JSON-RPC form.
func encodeJSONResponse(v any, callErr error, id json.RawMessage, v2 bool) ([]byte, error) {
	b := []byte("{")
	if v2 {
		b = append(b, `"jsonrpc":"2.0",`...)
	}
	var err error
	switch {
	case callErr == nil && v2:
		b = append(b, `"result":`...)
		b, err = xmlrpc.AppendJSON(b, v)
	case callErr == nil:
		b = append(b, `"result":`...)
		if b, err = xmlrpc.AppendJSON(b, v); err == nil {
			b = append(b, `,"error":null`...)
		}
	case v2:
		f := asFailure(callErr)
		b = append(b, `"error":{"code":1,"message":`...)
		b, _ = xmlrpc.AppendJSON(b, f.Code)
		b = append(b, `,"data":`...)
		b, _ = xmlrpc.AppendJSON(b, append([]string{}, f.Params...))
		b = append(b, '}')
	default:
		b = append(b, `"result":null,"error":`...)
		b, _ = xmlrpc.AppendJSON(b, asFailure(callErr).Description())
	}
	if err != nil {
		return nil, err
	}
	b = append(b, `,"id":`...)
	b = append(b, bytes.TrimSpace(id)...)
	return append(b, '}'), nil
}
