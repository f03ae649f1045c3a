package xva

import (
	"fmt"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// Version is ova.xml's "version" struct: who exported the archive.
type Version struct {
	Hostname       string
	Date           string
	ProductVersion string
	ProductBrand   string
	BuildNumber    string
	XapiMajor      int64
	XapiMinor      int64
	ExportVsn      int64
}

// Object is one exported object: its class ("VM", "VBD", "VDI", "SR", …),
// its export id ("Ref:<n>") and its API record with refs rewritten to
// export ids.
type Object struct {
	Class    string
	ID       string
	Snapshot map[string]any
}

// Header is the content of ova.xml.
type Header struct {
	Version Version
	Objects []Object
}

// MarshalOVA renders the header as XAPI writes ova.xml: one XML-RPC
// <value>, no declaration, no whitespace, objects in the order given and
// record fields in sorted order.
func (h *Header) MarshalOVA() ([]byte, error) {
	objs := make([]any, len(h.Objects))
	for i, o := range h.Objects {
		objs[i] = xmlrpc.Struct{{Name: "class", Value: o.Class}, {Name: "id", Value: o.ID},
			{Name: "snapshot", Value: o.Snapshot}}
	}
	v := h.Version
	ver := xmlrpc.Struct{
		{Name: "hostname", Value: v.Hostname},
		{Name: "date", Value: v.Date},
		{Name: "product_version", Value: v.ProductVersion},
		{Name: "product_brand", Value: v.ProductBrand},
		{Name: "build_number", Value: v.BuildNumber},
		{Name: "xapi_major", Value: v.XapiMajor},
		{Name: "xapi_minor", Value: v.XapiMinor},
		{Name: "export_vsn", Value: v.ExportVsn},
	}
	b, err := xmlrpc.Marshal(xmlrpc.Struct{{Name: "version", Value: ver}, {Name: "objects", Value: objs}})
	if err != nil {
		return nil, fmt.Errorf("xva: ova.xml: %w", err)
	}
	return b, nil
}

// ParseOVA parses ova.xml. Errors name the object and field at fault.
func ParseOVA(data []byte) (*Header, error) {
	v, err := xmlrpc.Unmarshal(data)
	if err != nil {
		return nil, wrapErr(ErrFormat, err, "ova.xml")
	}
	top, ok := xmlrpc.AsMap(v)
	if !ok {
		return nil, formatErr("ova.xml: top-level value is %s, not a struct", kind(v))
	}
	h := &Header{}
	if h.Version, err = parseVersion(top["version"]); err != nil {
		return nil, err
	}
	list, ok := top["objects"].([]any)
	if !ok {
		return nil, formatErr("ova.xml: field \"objects\" is %s, not an array", kind(top["objects"]))
	}
	h.Objects = make([]Object, 0, len(list))
	for i, item := range list {
		o, err := parseObject(i, item)
		if err != nil {
			return nil, err
		}
		h.Objects = append(h.Objects, o)
	}
	return h, nil
}

func parseVersion(v any) (Version, error) {
	m, ok := xmlrpc.AsMap(v)
	if !ok {
		return Version{}, formatErr("ova.xml: field \"version\" is %s, not a struct", kind(v))
	}
	var ver Version
	strs := []struct {
		name string
		dst  *string
	}{{"hostname", &ver.Hostname}, {"date", &ver.Date}, {"product_version", &ver.ProductVersion},
		{"product_brand", &ver.ProductBrand}, {"build_number", &ver.BuildNumber}}
	for _, f := range strs {
		s, err := versionString(m, f.name)
		if err != nil {
			return Version{}, err
		}
		*f.dst = s
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"xapi_major", &ver.XapiMajor}, {"xapi_minor", &ver.XapiMinor}, {"export_vsn", &ver.ExportVsn}}
	for _, f := range ints {
		n, ok := xmlrpc.AsInt(m[f.name])
		if !ok {
			return Version{}, formatErr("ova.xml: version.%s: %s is not an int", f.name, describeValue(m[f.name]))
		}
		*f.dst = n
	}
	return ver, nil
}

func versionString(m map[string]any, name string) (string, error) {
	if t, ok := m[name].(time.Time); ok {
		return xmlrpc.FormatTime(t), nil
	}
	s, ok := xmlrpc.AsString(m[name])
	if !ok {
		return "", formatErr("ova.xml: version.%s: %s is not a string", name, describeValue(m[name]))
	}
	return s, nil
}

func parseObject(i int, v any) (Object, error) {
	m, ok := xmlrpc.AsMap(v)
	if !ok {
		return Object{}, formatErr("ova.xml: object %d is %s, not a struct", i, kind(v))
	}
	var o Object
	if o.Class, ok = m["class"].(string); !ok || o.Class == "" {
		return Object{}, formatErr("ova.xml: object %d: class: %s is not a class name", i, describeValue(m["class"]))
	}
	if o.ID, ok = m["id"].(string); !ok || o.ID == "" {
		return Object{}, formatErr("ova.xml: object %d (%s): id: %s is not an id", i, o.Class, describeValue(m["id"]))
	}
	if o.Snapshot, ok = xmlrpc.AsMap(m["snapshot"]); !ok {
		return Object{}, formatErr("ova.xml: object %d (%s %s): snapshot: %s is not a struct", i, o.Class, o.ID, describeValue(m["snapshot"]))
	}
	return o, nil
}

// kind names the type of a decoded value for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any, xmlrpc.Struct:
		return "a struct"
	case bool:
		return "a boolean"
	case float64:
		return "a double"
	case time.Time:
		return "a datetime"
	}
	return fmt.Sprintf("a %T", v)
}

// describeValue shows a scalar value (truncated) or the kind of a compound.
func describeValue(v any) string {
	if s, ok := v.(string); ok {
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return fmt.Sprintf("%q", s)
	}
	return kind(v)
}
