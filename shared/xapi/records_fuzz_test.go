package xapi

import (
	"regexp"
	"strings"
	"testing"

	"xbr/shared/xapi/xmlrpc"
)

// recordDecoders are the decoders of every record class the client reads.
var recordDecoders = map[string]func(any) error{
	"pool":             func(v any) error { _, err := decodePool(v); return err },
	"host":             func(v any) error { _, err := decodeHost(v); return err },
	"SR":               func(v any) error { _, err := decodeSR(v); return err },
	"network":          func(v any) error { _, err := decodeNetwork(v); return err },
	"VM":               func(v any) error { _, err := decodeVM(v); return err },
	"VBD":              func(v any) error { _, err := decodeVBD(v); return err },
	"VDI":              func(v any) error { _, err := decodeVDI(v); return err },
	"task":             func(v any) error { _, err := decodeTask(v); return err },
	"VM_guest_metrics": func(v any) error { _, err := decodeGuestMetrics(v); return err },
}

var badField = regexp.MustCompile(`^(\S+) record field (\S+): `)

// FuzzDecodeRecords: a record from a JSON-RPC reply decodes, or the error
// names the class and either says the record is not a struct or names a
// field the record has; and a record JSON accepts is accepted once carried
// over XML-RPC too (untagged ints as strings, datetimes as strings).
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"uuid":"u","name_label":"web","power_state":"Running","VCPUs_max":"4","memory_target":1073741824,` +
		`"is_a_template":false,"snapshot_time":"20240102T03:04:05Z","other_config":{"k":"v"},"VBDs":["OpaqueRef:1"]}`))
	f.Add([]byte(`{"progress":0.5,"created":"2024-01-02T03:04:05Z","status":"success","error_info":[]}`))
	f.Add([]byte(`{"enabled":"yes","tags":[1],"other_config":{"k":2},"virtual_size":1.5}`))
	f.Add([]byte(`["not","a","struct"]`))
	f.Add([]byte(`{"uuid":7}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xmlrpc.DecodeJSON(data)
		if err != nil {
			return
		}
		m, isMap := v.(map[string]any)
		for class, dec := range recordDecoders {
			err := dec(v)
			if err == nil {
				checkOverXML(t, class, dec, v)
				continue
			}
			msg := err.Error()
			if !isMap {
				if !strings.HasPrefix(msg, class+" record is ") || !strings.HasSuffix(msg, "not a struct") {
					t.Fatalf("%s of %s: %q does not say it is not a struct", class, data, msg)
				}
				continue
			}
			g := badField.FindStringSubmatch(msg)
			if g == nil || g[1] != class {
				t.Fatalf("%s of %s: %q does not name the class and field", class, data, msg)
			}
			if _, ok := m[g[2]]; !ok {
				t.Fatalf("%s of %s: %q names field %s, which the record lacks", class, data, msg, g[2])
			}
		}
	})
}

func checkOverXML(t *testing.T, class string, dec func(any) error, v any) {
	t.Helper()
	x, err := xmlrpc.Marshal(v)
	if err != nil {
		t.Fatalf("%s: accepted %#v does not encode as XML-RPC: %v", class, v, err)
	}
	back, err := xmlrpc.Unmarshal(x)
	if err != nil {
		return // text XML cannot carry (control characters); not a record XAPI sends
	}
	if err := dec(back); err != nil {
		t.Fatalf("%s: accepted over JSON-RPC, refused over XML-RPC: %v\n%s", class, err, x)
	}
}
