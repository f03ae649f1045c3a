package xmlrpc

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Fault is a standard XML-RPC <fault> (XAPI itself never sends one for API errors).
type Fault struct {
	Code   int64
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("xmlrpc fault %d: %s", f.Code, f.String) }

// DecodeCall parses a methodCall into its method name and parameters.
func DecodeCall(data []byte) (method string, params []any, err error) {
	dc := newDecoder(data)
	if err := dc.expectStart("methodCall"); err != nil {
		return "", nil, err
	}
	if err := dc.expectStart("methodName"); err != nil {
		return "", nil, err
	}
	if method, err = dc.text("methodName"); err != nil {
		return "", nil, err
	}
	method = strings.TrimSpace(method)
	if method == "" {
		return "", nil, syntaxf("empty methodName")
	}
	tok, err := dc.next()
	if err != nil {
		return "", nil, err
	}
	if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "methodCall" {
		return method, []any{}, dc.end()
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "params" {
		return "", nil, syntaxf("expected <params>, got %s", describe(tok))
	}
	if params, err = dc.params(); err != nil {
		return "", nil, err
	}
	if err := dc.expectEnd("methodCall"); err != nil {
		return "", nil, err
	}
	return method, params, dc.end()
}

func (dc *decoder) params() ([]any, error) {
	out := []any{}
	for {
		tok, err := dc.next()
		if err != nil {
			return nil, err
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "params" {
			return out, nil
		}
		if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "param" {
			return nil, syntaxf("expected <param>, got %s", describe(tok))
		}
		if err := dc.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := dc.value(0)
		if err != nil {
			return nil, fmt.Errorf("param %d: %w", len(out)+1, err)
		}
		out = append(out, v)
		if err := dc.expectEnd("param"); err != nil {
			return nil, err
		}
	}
}

// DecodeResponse parses a methodResponse and returns its single param value,
// or a *Fault for an XML-RPC fault.
func DecodeResponse(data []byte) (any, error) {
	dc := newDecoder(data)
	if err := dc.expectStart("methodResponse"); err != nil {
		return nil, err
	}
	tok, err := dc.next()
	if err != nil {
		return nil, err
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return nil, syntaxf("expected <params> or <fault>, got %s", describe(tok))
	}
	switch se.Name.Local {
	case "fault":
		return nil, dc.fault()
	case "params":
	default:
		return nil, syntaxf("expected <params> or <fault>, got %s", describe(tok))
	}
	params, err := dc.params()
	if err != nil {
		return nil, err
	}
	if len(params) != 1 {
		return nil, syntaxf("methodResponse has %d params, want 1", len(params))
	}
	if err := dc.expectEnd("methodResponse"); err != nil {
		return nil, err
	}
	return params[0], dc.end()
}

func (dc *decoder) fault() error {
	if err := dc.expectStart("value"); err != nil {
		return err
	}
	v, err := dc.value(0)
	if err != nil {
		return err
	}
	m, _ := AsMap(v)
	f := &Fault{}
	f.Code, _ = AsInt(m["faultCode"])
	f.String, _ = m["faultString"].(string)
	return f
}
