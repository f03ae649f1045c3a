package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a configuration file. Its text is
// "file:line: path: "value": message"; parts that are unknown are left out,
// and Value is never set for a secret field.
type FieldError struct {
	File  string
	Line  int
	Path  string // e.g. jobs[0].schedules[1].cron
	Value string // the offending value, quoted when printed
	Msg   string
	// HasValue distinguishes an empty offending value from none.
	HasValue bool
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	if e.HasValue {
		b.WriteString(strconv.Quote(e.Value) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// problems collects FieldErrors with the line of each field path.
type problems struct {
	file  string
	lines map[string]int // field path -> line of its value
	list  []*FieldError
	// reported holds the paths that already have a problem.
	reported map[string]bool
	// noSecrets: secrets and key files are not resolved (WithoutSecrets).
	noSecrets bool
}

// lineOf returns the line of path, or of its nearest ancestor present.
func (p *problems) lineOf(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p.lines[""]
		}
		path = path[:i]
	}
}

// has reports whether path was written in the file.
func (p *problems) has(path string) bool {
	_, ok := p.lines[path]
	return ok
}

// add records a problem without a value.
func (p *problems) add(path, format string, args ...any) {
	p.push(&FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// addValue records a problem with the offending value.
func (p *problems) addValue(path, value, format string, args ...any) {
	p.push(&FieldError{Path: path, Value: value, HasValue: true, Msg: fmt.Sprintf(format, args...)})
}

// mark suppresses later problems of path.
func (p *problems) mark(path string) {
	if p.reported == nil {
		p.reported = map[string]bool{}
	}
	p.reported[path] = true
}

// push keeps the first problem of each field: a field that could not be
// decoded is not reported again as missing or invalid.
func (p *problems) push(e *FieldError) {
	if p.reported[e.Path] {
		return
	}
	p.mark(e.Path)
	e.File, e.Line = p.file, p.lineOf(e.Path)
	p.list = append(p.list, e)
}

// err returns every problem, ordered by line then path, joined.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}
