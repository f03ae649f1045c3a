package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

type decoder struct {
	d *xml.Decoder
}

func newDecoder(data []byte) *decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	return &decoder{d: d}
}

func syntaxf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// next returns the next start or end element, skipping whitespace, comments,
// processing instructions and directives. Non-space text is an error.
func (dc *decoder) next() (xml.Token, error) {
	for {
		tok, err := dc.d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, syntaxf("unexpected end of document")
			}
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return xml.CopyToken(t), nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, syntaxf("unexpected text %q", Excerpt(string(t)))
			}
		}
	}
}

func (dc *decoder) expectStart(name string) error {
	tok, err := dc.next()
	if err != nil {
		return err
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != name {
		return syntaxf("expected <%s>, got %s", name, describe(tok))
	}
	return nil
}

func (dc *decoder) expectEnd(name string) error {
	tok, err := dc.next()
	if err != nil {
		return err
	}
	if ee, ok := tok.(xml.EndElement); !ok || ee.Name.Local != name {
		return syntaxf("expected </%s>, got %s", name, describe(tok))
	}
	return nil
}

func describe(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return "<" + t.Name.Local + ">"
	case xml.EndElement:
		return "</" + t.Name.Local + ">"
	}
	return fmt.Sprintf("%T", tok)
}

// text reads character data up to the end element called name.
func (dc *decoder) text(name string) (string, error) {
	var sb strings.Builder
	for {
		tok, err := dc.d.Token()
		if err != nil {
			return "", fmt.Errorf("%w: in <%s>: %v", ErrSyntax, name, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.EndElement:
			if t.Name.Local != name {
				return "", syntaxf("expected </%s>, got </%s>", name, t.Name.Local)
			}
			return sb.String(), nil
		case xml.StartElement:
			return "", syntaxf("unexpected <%s> inside <%s>", t.Name.Local, name)
		}
	}
}

// value reads the content of a <value> whose start tag was just consumed.
func (dc *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, syntaxf("values nested deeper than %d", maxDepth)
	}
	var sb strings.Builder
	for {
		tok, err := dc.d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: in <value>: %v", ErrSyntax, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.EndElement:
			return sb.String(), nil // untagged: a string
		case xml.StartElement:
			if strings.TrimSpace(sb.String()) != "" {
				return nil, syntaxf("text mixed with <%s> in <value>", t.Name.Local)
			}
			v, err := dc.typed(t.Name.Local, depth)
			if err != nil {
				return nil, err
			}
			return v, dc.expectEnd("value")
		}
	}
}

func (dc *decoder) typed(tag string, depth int) (any, error) {
	switch tag {
	case "array":
		return dc.array(depth)
	case "struct":
		return dc.structure(depth)
	case "nil":
		return nil, dc.expectEnd("nil")
	}
	s, err := dc.text(tag)
	if err != nil {
		return nil, err
	}
	return scalar(tag, s)
}

func scalar(tag, s string) (any, error) {
	switch tag {
	case "string":
		return s, nil
	case "int", "i4", "i8":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, syntaxf("<%s> %q is not an integer", tag, Excerpt(s))
		}
		return n, nil
	case "boolean":
		switch strings.TrimSpace(s) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, syntaxf("<boolean> %q is not 0 or 1", Excerpt(s))
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, syntaxf("<double> %q is not a number", Excerpt(s))
		}
		return f, nil
	case "dateTime.iso8601":
		return ParseTime(strings.TrimSpace(s))
	case "base64":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return nil, syntaxf("<base64> is not base64: %v", err)
		}
		return string(raw), nil
	}
	return nil, syntaxf("unknown value type <%s>", tag)
}

func (dc *decoder) array(depth int) (any, error) {
	if err := dc.expectStart("data"); err != nil {
		return nil, err
	}
	out := []any{}
	for {
		tok, err := dc.next()
		if err != nil {
			return nil, err
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "data" {
			return out, dc.expectEnd("array")
		}
		if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "value" {
			return nil, syntaxf("expected <value> in <data>, got %s", describe(tok))
		}
		v, err := dc.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (dc *decoder) structure(depth int) (any, error) {
	out := map[string]any{}
	for {
		tok, err := dc.next()
		if err != nil {
			return nil, err
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "struct" {
			return out, nil
		}
		if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "member" {
			return nil, syntaxf("expected <member> in <struct>, got %s", describe(tok))
		}
		name, v, err := dc.member(depth)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
}

func (dc *decoder) member(depth int) (string, any, error) {
	if err := dc.expectStart("name"); err != nil {
		return "", nil, err
	}
	name, err := dc.text("name")
	if err != nil {
		return "", nil, err
	}
	if err := dc.expectStart("value"); err != nil {
		return "", nil, err
	}
	v, err := dc.value(depth + 1)
	if err != nil {
		return "", nil, fmt.Errorf("member %q: %w", Excerpt(name), err)
	}
	return name, v, dc.expectEnd("member")
}

// Unmarshal parses a document holding one <value> (as ova.xml does).
func Unmarshal(data []byte) (any, error) {
	dc := newDecoder(data)
	if err := dc.expectStart("value"); err != nil {
		return nil, err
	}
	v, err := dc.value(0)
	if err != nil {
		return nil, err
	}
	return v, dc.end()
}

// end checks that nothing but whitespace follows the root element.
func (dc *decoder) end() error {
	for {
		tok, err := dc.d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return syntaxf("trailing text after the document")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return syntaxf("trailing %s after the document", describe(tok))
		}
	}
}
