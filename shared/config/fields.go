package config

import (
	"errors"
	"io/fs"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"xbr/shared/suggest"
)

type fieldInfo struct {
	index int
	file  bool // "<secret>_file": the secret is read from this file
}

// fieldsOf maps the YAML names of a struct's fields to their index; every
// Secret field also accepts "<name>_file".
func fieldsOf(t reflect.Type) map[string]fieldInfo {
	out := map[string]fieldInfo{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		if name == "" || name == "-" {
			continue
		}
		out[name] = fieldInfo{index: i}
		if f.Type == secretType {
			out[name+"_file"] = fieldInfo{index: i, file: true}
		}
	}
	return out
}

// didYouMean proposes the known field closest to a misspelt one
// (suggest.Closest), else lists the known fields.
func didYouMean(name string, fields map[string]fieldInfo) string {
	names := slices.Sorted(maps.Keys(fields))
	if best, ok := suggest.Closest(name, names); ok {
		return " (did you mean " + best + "?)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces every ${VAR} with the variable's value. It returns a
// problem message instead when a reference is malformed or unset; for a
// secret the message never quotes the text.
func expand(text string, lookup func(string) (string, bool), secret bool) (string, string) {
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), ""
		}
		b.WriteString(text[:i])
		end := strings.IndexByte(text[i:], '}')
		if end < 0 || !varName.MatchString(text[i+2:i+end]) {
			if secret {
				return "", "malformed ${VAR} reference (a literal value containing ${ must come from a _file)"
			}
			return "", "malformed ${VAR} reference in " + strconv.Quote(text[i:])
		}
		name := text[i+2 : i+end]
		value, ok := lookup(name)
		if !ok {
			return "", "environment variable " + name + " is not set"
		}
		b.WriteString(value)
		text = text[i+end+1:]
	}
}

// pathErr drops the path from a file error: the caller names the file.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
