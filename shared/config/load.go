package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Option adjusts Load and Parse.
type Option func(*options)

type options struct {
	lookupEnv func(string) (string, bool)
	noSecrets bool
}

// WithoutSecrets checks the shape and the references of the file without
// resolving secrets: a secret's ${VAR} reference is checked for syntax but
// not looked up, a <secret>_file and the other key files (credentials,
// nkey, encryption key, users) are not read. The returned Config cannot run:
// its unresolved secrets are set but empty.
func WithoutSecrets() Option {
	return func(o *options) { o.noSecrets = true }
}

// WithLookupEnv replaces os.LookupEnv for ${VAR} references (tests).
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = lookup }
}

// Load reads, checks and returns the configuration file at path. The error
// lists every problem, one per line (errors.Join of *FieldError).
func Load(path string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse checks and returns the configuration in data; name is the file name
// used in error messages.
func Parse(name string, data []byte, opts ...Option) (*Config, error) {
	o := options{lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&o)
	}
	p := &problems{file: name, lines: map[string]int{}, noSecrets: o.noSecrets}
	root, err := document(name, data)
	if err != nil {
		return nil, err
	}
	c := &Config{File: name}
	d := &decoder{problems: p, set: map[string]bool{}, env: o.lookupEnv, budget: maxNodes}
	d.decode(root, "", reflect.ValueOf(c).Elem())
	if d.budget <= 0 {
		return nil, &FieldError{File: name, Line: root.Line, Msg: fmt.Sprintf(
			"the file is too complex (more than %d nodes once aliases are expanded)", maxNodes)}
	}
	for i := range c.Jobs {
		for j := range c.Jobs[i].Schedules {
			if !d.set[fmt.Sprintf("jobs[%d].schedules[%d].enabled", i, j)] {
				c.Jobs[i].Schedules[j].Enabled = true
			}
		}
	}
	c.applyDefaults()
	c.check(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Check applies defaults to zero values, parses the schedules' cron
// expressions and time zones, and checks the configuration, as Parse does;
// use it for a Config built in code. (In code, a schedule's Enabled is taken
// as given.)
func (c *Config) Check() error {
	p := &problems{file: c.File}
	c.applyDefaults()
	c.check(p)
	return p.err()
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses the YAML text into its single root node.
func document(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: name, Msg: "the file is empty"}
		}
		return nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(name, data, err)
		}
		return nil, &FieldError{File: name, Line: extra.Line, Msg: "only one YAML document is allowed"}
	}
	if len(doc.Content) == 0 {
		return nil, &FieldError{File: name, Msg: "the file is empty"}
	}
	return doc.Content[0], nil
}

func syntaxError(name string, data []byte, err error) error {
	e := &FieldError{File: name, Msg: "syntax error: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "syntax error: " + m[2]
		if line := offendingLine(data, m[2]); line > 0 {
			e.Line = line
		}
	} else if msg, ok := bytes.CutPrefix([]byte(err.Error()), []byte("yaml: ")); ok {
		e.Msg = "syntax error: " + string(msg)
	}
	return e
}

// maxSearchLines bounds offendingLine's search (it parses each prefix).
const maxSearchLines = 2000

// offendingLine is the first line at which the text, cut after that line,
// fails with the parser's message msg; 0 if none does. The YAML parser
// reports the line where the enclosing block starts (line 1 for a key
// indented one space too little on line 5), which is not where to look.
func offendingLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSearchLines {
		return 0
	}
	end := 0
	for i, l := range lines {
		end += len(l)
		var n yaml.Node
		err := yaml.Unmarshal(data[:end], &n)
		if err == nil {
			continue
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil && m[2] == msg {
			return i + 1
		}
	}
	return 0
}
