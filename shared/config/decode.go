package config

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work of decoding, aliases included ("billion laughs").
const maxNodes = 200000

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[ByteSize]()
)

// decoder fills Go values from a yaml.Node tree strictly, recording the
// line of every field path and a problem for everything it cannot use.
type decoder struct {
	*problems
	set    map[string]bool // paths given a non-null value
	env    func(string) (string, bool)
	budget int
}

type pair struct {
	key, val *yaml.Node
	merged   bool
}

func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.budget--; d.budget <= 0 { // Parse reports it

		return nil
	}
	return n
}

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if n = d.resolve(n); n == nil {
		return
	}
	d.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	d.set[path] = true
	switch {
	case v.Type() == secretType:
		d.secret(n, path, v)
	case v.Kind() == reflect.Pointer: // an optional block: nil when absent
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case v.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	default:
		d.scalar(n, path, v)
	}
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, path, "a mapping of fields")
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for _, p := range d.pairs(n, path) {
		name := p.key.Value
		fp := join(path, name)
		if seen[name] {
			if !p.merged {
				d.lines[fp] = p.key.Line
				d.add(fp, "duplicate field")
			}
			continue
		}
		seen[name] = true
		f, ok := fields[name]
		if !ok {
			d.lines[fp] = p.key.Line
			d.add(fp, "unknown field%s", didYouMean(name, fields))
			continue
		}
		if f.file {
			d.secretFile(p.val, fp, v.Field(f.index))
			continue
		}
		d.decode(p.val, fp, v.Field(f.index))
	}
	for name, f := range fields {
		if f.file && seen[name] && seen[strings.TrimSuffix(name, "_file")] {
			d.add(join(path, name), "set %s or %s, not both", strings.TrimSuffix(name, "_file"), name)
		}
	}
}

// pairs lists a mapping's key/value pairs, expanding YAML merge keys (<<):
// explicit keys first, then merged ones, which lose to explicit keys.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var explicit, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.lines[path] = k.Line
			d.add(path, "a field name must be a plain string")
			continue
		}
		explicit = append(explicit, pair{key: k, val: val})
	}
	return append(explicit, merged...)
}

func (d *decoder) mergePairs(val *yaml.Node, path string) []pair {
	if val = d.resolve(val); val == nil {
		return nil
	}
	sources := []*yaml.Node{val}
	if val.Kind == yaml.SequenceNode {
		sources = val.Content
	}
	var out []pair
	for _, s := range sources {
		if s = d.resolve(s); s == nil {
			continue
		}
		if s.Kind != yaml.MappingNode {
			d.lines[path] = s.Line
			d.add(path, "<< must merge a mapping")
			continue
		}
		for _, p := range d.pairs(s, path) {
			out = append(out, pair{key: p.key, val: p.val, merged: true})
		}
	}
	return out
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.wrongKind(n, path, "a list")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		if r := d.resolve(item); r != nil && r.Kind == yaml.ScalarNode && r.Tag == "!!null" {
			d.lines[ip] = r.Line
			d.add(ip, "empty item")
			continue
		}
		d.decode(item, ip, out.Index(i))
	}
	v.Set(out)
}

func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	text, ok := d.scalarText(n, path, false)
	if !ok {
		return
	}
	var err string
	switch {
	case v.Type() == durationType:
		dur, e := time.ParseDuration(text)
		if e != nil {
			err = "not a duration (e.g. 90s, 30m, 2h45m)"
		}
		v.SetInt(int64(dur))
	case v.Type() == sizeType:
		size, e := ParseByteSize(text)
		if e != nil {
			err = e.Error()
		}
		v.SetInt(int64(size))
	case v.Kind() == reflect.String:
		v.SetString(text)
	case v.Kind() == reflect.Int:
		i, e := strconv.Atoi(text)
		if e != nil {
			err = "not an integer"
		}
		v.SetInt(int64(i))
	case v.Kind() == reflect.Bool:
		switch text {
		case "true", "false":
			v.SetBool(text == "true")
		default:
			err = "not true or false"
		}
	default:
		panic("config: no decoder for " + v.Type().String())
	}
	if err != "" {
		d.addValue(path, text, "%s", err)
	}
}

// scalarText returns a scalar's text with ${VAR} references expanded.
// For a secret, no problem it reports contains any part of the value.
func (d *decoder) scalarText(n *yaml.Node, path string, secret bool) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.wrongKind(n, path, "a single value")
		return "", false
	}
	text, msg := expand(n.Value, d.env, secret)
	if msg != "" {
		d.add(path, "%s", msg)
		return "", false
	}
	return text, true
}

// secret decodes a secret scalar; under WithoutSecrets a ${VAR} reference
// is checked but not looked up.
func (d *decoder) secret(n *yaml.Node, path string, v reflect.Value) {
	if d.noSecrets && n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		if _, msg := expand(n.Value, func(string) (string, bool) { return "", true }, true); msg != "" {
			d.add(path, "%s", msg)
			return
		}
		v.Set(reflect.ValueOf(Secret{unresolved: true}))
		return
	}
	if text, ok := d.scalarText(n, path, true); ok {
		v.Set(reflect.ValueOf(NewSecret(text)))
	}
}

func (d *decoder) secretFile(n *yaml.Node, path string, v reflect.Value) {
	if n = d.resolve(n); n == nil {
		return
	}
	d.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	file, ok := d.scalarText(n, path, false)
	if !ok {
		return
	}
	d.set[path] = true
	if d.noSecrets {
		v.Set(reflect.ValueOf(Secret{unresolved: true}))
		return
	}
	data, err := os.ReadFile(file)
	value := strings.TrimRight(string(data), "\r\n")
	switch {
	case err != nil:
		d.addValue(path, file, "cannot read: %s", pathErr(err))
	case value == "":
		d.addValue(path, file, "the file is empty")
	}
	if err != nil || value == "" {
		d.mark(strings.TrimSuffix(path, "_file")) // not also "missing"
		return
	}
	v.Set(reflect.ValueOf(NewSecret(value)))
}

func (d *decoder) wrongKind(n *yaml.Node, path, want string) {
	if n.Kind == yaml.ScalarNode {
		d.addValue(path, n.Value, "expected %s", want)
		return
	}
	kinds := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}
	d.add(path, "expected %s, not %s", want, kinds[n.Kind])
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
