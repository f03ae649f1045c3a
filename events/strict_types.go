package events

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaque reports whether values of t decode themselves (or into anything):
// their insides are checked for duplicate keys only.
func opaque(t reflect.Type) bool {
	if t == nil || t.Kind() == reflect.Interface {
		return true
	}
	pt := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || pt.Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || pt.Implements(textUnmarshaler)
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// elemType is the type of t's array elements (nil: unchecked).
func elemType(t reflect.Type) reflect.Type {
	t = deref(t)
	if opaque(t) || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		return nil
	}
	return t.Elem()
}

// members describes the object t decodes: a struct's fields by JSON name,
// or a map's element type (elem nil: unchecked).
func members(t reflect.Type) (fields map[string]reflect.Type, elem reflect.Type, isStruct bool) {
	t = deref(t)
	switch {
	case opaque(t):
		return nil, nil, false
	case t.Kind() == reflect.Map:
		return nil, t.Elem(), false
	case t.Kind() == reflect.Struct:
		fields = map[string]reflect.Type{}
		addFields(fields, t, 0)
		return fields, nil, true
	}
	return nil, nil, false
}

// addFields adds the JSON names of t's fields as encoding/json sees them,
// with those of embedded structs (the outer name wins).
func addFields(fields map[string]reflect.Type, t reflect.Type, depth int) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := deref(f.Type); et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	for _, et := range embedded {
		if depth < 8 {
			inner := map[string]reflect.Type{}
			addFields(inner, et, depth+1)
			for k, v := range inner {
				if _, ok := fields[k]; !ok {
					fields[k] = v
				}
			}
		}
	}
}
