package xmlrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// AppendJSON appends the JSON-RPC encoding of v to b, as XAPI's JSON-RPC
// endpoint writes it: ints are numbers, datetimes are strings in DateLayout,
// Struct members keep their order.
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case I4:
		return strconv.AppendInt(b, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("xmlrpc: cannot encode %v as JSON", x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case time.Time:
		return appendJSONString(b, FormatTime(x)), nil
	case []string:
		return appendJSONArray(b, len(x), func(i int) any { return x[i] })
	case []any:
		return appendJSONArray(b, len(x), func(i int) any { return x[i] })
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return AppendJSON(b, m)
	case map[string]any:
		s := make(Struct, 0, len(x))
		for _, k := range sortedKeys(x) {
			s = append(s, Member{k, x[k]})
		}
		return AppendJSON(b, s)
	case Struct:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.Name)
			b = append(b, ':')
			var err error
			if b, err = AppendJSON(b, m.Value); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("xmlrpc: cannot encode %T as JSON", v)
}

func appendJSONArray(b []byte, n int, at func(int) any) ([]byte, error) {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = AppendJSON(b, at(i)); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}

// DecodeJSON parses JSON into values: integral numbers become int64, other
// numbers float64, objects map[string]any, arrays []any.
func DecodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, syntaxf("trailing data after the JSON document")
	}
	if err := checkNumbers(v); err != nil {
		return nil, err
	}
	return FromJSON(v), nil
}

// checkNumbers refuses a number no float64 holds (1e400): it would decode
// to an infinity that no encoder writes back.
func checkNumbers(v any) error {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Float64(); err != nil {
			return syntaxf("number %.40s is out of range", x)
		}
	case []any:
		for _, e := range x {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if err := checkNumbers(e); err != nil {
				return fmt.Errorf("%w (member %.40q)", err, k)
			}
		}
	}
	return nil
}

// FromJSON converts a value decoded with json.Decoder.UseNumber into the
// package's value model.
func FromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = FromJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = FromJSON(x[k])
		}
		return x
	}
	return v
}
