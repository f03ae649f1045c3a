package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONError is a JSON document refused by DecodeStrict. Field is the path
// of the offending member ("backup_id", "disks.0.uuid"), "" for the
// document itself.
type JSONError struct {
	Field   string
	Problem string
}

func (e *JSONError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Problem)
}

// maxJSONDepth bounds the nesting DecodeStrict walks (no request or event
// nests more than a few levels).
const maxJSONDepth = 32

// DecodeStrict decodes one JSON value into v (a pointer) as every door
// reads outside input (webhook, API, chat and consumed events): member names
// must match a field's JSON name exactly (case-sensitive), a name may not
// repeat within an object, unknown names are refused, and nothing may follow
// the value. Errors are *JSONError naming the field.
func DecodeStrict(data []byte, v any) error { return decodeJSON(data, v, false) }

// decodeEvolving is DecodeStrict for event payloads: unknown names are
// ignored (the contract lets producers add fields), but a name that differs
// from a field's only in case is refused like a duplicate.
func decodeEvolving(data []byte, v any) error { return decodeJSON(data, v, true) }

func decodeJSON(data []byte, v any, allowUnknown bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("events: decode into %T, want a non-nil pointer", v)
	}
	if !json.Valid(data) {
		var x any
		return &JSONError{Problem: "not valid JSON: " + json.Unmarshal(data, &x).Error()}
	}
	w := walker{dec: json.NewDecoder(strings.NewReader(string(data))), allowUnknown: allowUnknown}
	if err := w.value(rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return &JSONError{Problem: "trailing data after the JSON value"}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if !allowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	return nil
}

func decodeProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &JSONError{Field: te.Field, Problem: fmt.Sprintf("JSON %s is not a %s", te.Value, te.Type)}
	}
	return &JSONError{Problem: "not valid JSON: " + err.Error()}
}

// walker reads a document token by token beside the Go type it will be
// decoded into, checking every object's member names.
type walker struct {
	dec          *json.Decoder
	allowUnknown bool
}

func (w *walker) value(t reflect.Type, path string, depth int) error {
	if depth > maxJSONDepth {
		return &JSONError{Field: path, Problem: fmt.Sprintf("nested deeper than %d levels", maxJSONDepth)}
	}
	tok, err := w.dec.Token()
	if err != nil {
		return &JSONError{Field: path, Problem: "not valid JSON: " + err.Error()}
	}
	switch tok {
	case json.Delim('{'):
		return w.object(t, path, depth)
	case json.Delim('['):
		elem := elemType(t)
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, join(path, fmt.Sprint(i)), depth+1); err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
	case json.Delim('}'), json.Delim(']'):
		return &JSONError{Field: path, Problem: "not valid JSON: unexpected " + tok.(json.Delim).String()}
	}
	if err != nil {
		return &JSONError{Field: path, Problem: "not valid JSON: " + err.Error()}
	}
	return nil
}

func (w *walker) object(t reflect.Type, path string, depth int) error {
	fields, elem, isStruct := members(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return &JSONError{Field: path, Problem: "not valid JSON: " + err.Error()}
		}
		key, _ := tok.(string)
		p := join(path, key)
		if seen[key] {
			return &JSONError{Field: p, Problem: "duplicate key"}
		}
		seen[key] = true
		next := elem
		if isStruct {
			if next, err = w.field(fields, key, p); err != nil {
				return err
			}
		}
		if err := w.value(next, p, depth+1); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return &JSONError{Field: path, Problem: "not valid JSON: " + err.Error()}
	}
	return nil
}

// field is the type of the struct member key; nil for an ignored one.
func (w *walker) field(fields map[string]reflect.Type, key, path string) (reflect.Type, error) {
	if t, ok := fields[key]; ok {
		return t, nil
	}
	for name := range fields {
		if strings.EqualFold(name, key) {
			return nil, &JSONError{Field: path, Problem: fmt.Sprintf("unknown field (names are case-sensitive: did you mean %q?)", name)}
		}
	}
	if !w.allowUnknown {
		return nil, &JSONError{Field: path, Problem: "unknown field"}
	}
	return nil, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
