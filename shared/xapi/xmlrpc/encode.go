package xmlrpc

import (
	"fmt"
	"strconv"
	"time"
)

// Marshal renders v as one <value> element, byte for byte as XAPI writes it.
func Marshal(v any) ([]byte, error) { return AppendValue(nil, v) }

// AppendValue appends the XML-RPC encoding of v to b.
func AppendValue(b []byte, v any) ([]byte, error) {
	b = append(b, "<value>"...)
	b, err := appendInner(b, v)
	if err != nil {
		return nil, err
	}
	return append(b, "</value>"...), nil
}

func appendInner(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "<nil/>"...), nil
	case string:
		return appendEscaped(b, x), nil
	case []byte:
		return appendEscaped(b, string(x)), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case I4:
		b = append(b, "<i4>"...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, "</i4>"...), nil
	case bool:
		if x {
			return append(b, "<boolean>1</boolean>"...), nil
		}
		return append(b, "<boolean>0</boolean>"...), nil
	case float64:
		b = append(b, "<double>"...)
		b = append(b, formatFloat(x)...)
		return append(b, "</double>"...), nil
	case time.Time:
		b = append(b, "<dateTime.iso8601>"...)
		b = append(b, FormatTime(x)...)
		return append(b, "</dateTime.iso8601>"...), nil
	case []any:
		return appendArray(b, len(x), func(i int) any { return x[i] })
	case []string:
		return appendArray(b, len(x), func(i int) any { return x[i] })
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return appendMap(b, m)
	case map[string]any:
		return appendMap(b, x)
	case Struct:
		return appendStruct(b, x)
	}
	return nil, fmt.Errorf("xmlrpc: cannot encode %T", v)
}

func appendArray(b []byte, n int, at func(int) any) ([]byte, error) {
	b = append(b, "<array><data>"...)
	for i := 0; i < n; i++ {
		var err error
		if b, err = AppendValue(b, at(i)); err != nil {
			return nil, err
		}
	}
	return append(b, "</data></array>"...), nil
}

func appendMap(b []byte, m map[string]any) ([]byte, error) {
	s := make(Struct, 0, len(m))
	for _, k := range sortedKeys(m) {
		s = append(s, Member{k, m[k]})
	}
	return appendStruct(b, s)
}

func appendStruct(b []byte, s Struct) ([]byte, error) {
	b = append(b, "<struct>"...)
	for _, m := range s {
		b = append(b, "<member><name>"...)
		b = appendEscaped(b, m.Name)
		b = append(b, "</name>"...)
		var err error
		if b, err = AppendValue(b, m.Value); err != nil {
			return nil, err
		}
		b = append(b, "</member>"...)
	}
	return append(b, "</struct>"...), nil
}

// appendEscaped escapes as ocaml-rpc does: only < > & " become entities, and
// control bytes other than TAB, LF and CR are dropped.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '"':
			b = append(b, "&quot;"...)
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
		default:
			b = append(b, c)
		}
	}
	return b
}

// EncodeCall renders a methodCall as npm xen-api sends it (untagged strings).
func EncodeCall(method string, params []any) ([]byte, error) {
	b := []byte(`<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>`)
	b = appendEscaped(b, method)
	b = append(b, "</methodName><params>"...)
	for _, p := range params {
		b = append(b, "<param>"...)
		var err error
		if b, err = AppendValue(b, p); err != nil {
			return nil, fmt.Errorf("xmlrpc: %s param: %w", method, err)
		}
		b = append(b, "</param>"...)
	}
	return append(b, "</params></methodCall>"...), nil
}

const responseHead = `<?xml version="1.0"?><methodResponse><params><param>`
const responseTail = `</param></params></methodResponse>`

// EncodeRaw renders a methodResponse whose single param is v, unwrapped (as
// XAPI answers system.listMethods).
func EncodeRaw(v any) ([]byte, error) {
	b := []byte(responseHead)
	b, err := AppendValue(b, v)
	if err != nil {
		return nil, err
	}
	return append(b, responseTail...), nil
}

// EncodeSuccess renders XAPI's {Status: Success, Value: v} response.
func EncodeSuccess(v any) ([]byte, error) {
	return EncodeRaw(Struct{{"Status", "Success"}, {"Value", v}})
}

// EncodeFailure renders XAPI's {Status: Failure, ErrorDescription: [...]} response.
func EncodeFailure(desc []string) []byte {
	b, _ := EncodeRaw(Struct{{"Status", "Failure"}, {"ErrorDescription", desc}})
	return b
}
