package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"xbr/events"
)

// TestSchemasMatchStructs checks every schema/<type>.json against its Go
// struct: same properties, same required set (non-omitempty fields), nested
// objects too; the example payload validates; a payload missing a required
// field does not.
func TestSchemasMatchStructs(t *testing.T) {
	files, _ := filepath.Glob("schema/*.json")
	if len(files) != len(events.Types()) {
		t.Errorf("%d schema files for %d types", len(files), len(events.Types()))
	}
	for _, p := range examples() {
		t.Run(string(p.EventType()), func(t *testing.T) {
			path := filepath.Join("schema", string(p.EventType())+".json")
			raw := readJSON(t, path)
			if raw["title"] != string(p.EventType()) {
				t.Errorf("title %v", raw["title"])
			}
			compareObject(t, string(p.EventType()), raw, reflect.TypeOf(p))
			sch := compile(t, path)
			if err := sch.Validate(toJSONValue(t, p)); err != nil {
				t.Errorf("example does not validate: %v", err)
			}
			for _, req := range raw["required"].([]any) {
				v := toJSONValue(t, p).(map[string]any)
				delete(v, req.(string))
				if sch.Validate(v) == nil {
					t.Errorf("example without %s validates", req)
				}
			}
		})
	}
}

func compareObject(t *testing.T, where string, schema map[string]any, typ reflect.Type) {
	t.Helper()
	props, _ := schema["properties"].(map[string]any)
	var required []string
	for _, r := range asList(schema["required"]) {
		required = append(required, r.(string))
	}
	var fields, wantReq []string
	for _, f := range jsonFields(typ) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
		if opts != "omitempty" {
			wantReq = append(wantReq, name)
		}
		ps, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s: field %s is not in the schema", where, name)
			continue
		}
		if ps["description"] == nil {
			t.Errorf("%s.%s: no description", where, name)
		}
		elem := f.Type
		if elem.Kind() == reflect.Slice {
			elem = elem.Elem()
			ps, _ = ps["items"].(map[string]any)
		}
		if elem.Kind() == reflect.Struct && elem.Name() != "Time" {
			compareObject(t, where+"."+name, ps, elem)
		}
	}
	for name := range props {
		if !slices.Contains(fields, name) {
			t.Errorf("%s: schema property %s is not a field of %s", where, name, typ.Name())
		}
	}
	slices.Sort(required)
	slices.Sort(wantReq)
	if !slices.Equal(required, wantReq) {
		t.Errorf("%s: schema requires %v, struct requires (non-omitempty) %v", where, required, wantReq)
	}
}

// jsonFields are the fields of typ as encoding/json writes them: those of
// an embedded struct without a JSON name (events.Transfer) sit beside the
// others.
func jsonFields(typ reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

func compile(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	abs, _ := filepath.Abs(path)
	c := jsonschema.NewCompiler()
	s, err := c.Compile(abs)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func toJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
