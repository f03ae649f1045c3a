package xapisim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"xbr/shared/xapi/xmlrpc"
)

// call is one API call after dispatch: the session and the params that follow it.
type call struct {
	s       *Server
	ctx     context.Context
	name    string
	session *session
	args    []any
	task    string // the task ref when run as Async
}

type handlerFunc func(c *call) (any, error)

// method describes one API message as the generated dispatcher sees it.
type method struct {
	session  bool  // takes a session ref first
	required int   // params after the session without a default
	defaults []any // defaults of the trailing versioned params
	async    bool  // has an Async. mode
	removed  bool  // lifecycle Removed: MESSAGE_REMOVED
	fn       handlerFunc
}

type registry map[string]*method

func (r registry) add(name string, required int, fn handlerFunc, opts ...func(*method)) {
	m := &method{session: true, required: required, fn: fn}
	for _, o := range opts {
		o(m)
	}
	r[name] = m
}

func asyncMode(m *method) { m.async = true }
func noSession(m *method) { m.session = false }
func withDefaults(d ...any) func(*method) {
	return func(m *method) { m.defaults = d }
}

func (s *Server) buildMethods() registry {
	r := registry{}
	s.sessionMethods(r)
	s.implicitMethods(r)
	s.vmMethods(r)
	s.vdiMethods(r)
	s.cbtMethods(r)
	s.nbdMethods(r)
	s.taskMethods(r)
	s.eventMethods(r)
	r.add("pool.designate_new_master", 1, s.designateMaster, asyncMode)
	return r
}

// listMethods returns every wire name, sorted, without Async variants.
func (s *Server) listMethods() []string {
	out := make([]string, 0, len(s.methods)+1)
	for name := range s.methods {
		out = append(out, name)
	}
	out = append(out, "system.listMethods")
	slices.Sort(out)
	return out
}

// dispatch runs one call as XAPI's generated server does (§1.4).
func (s *Server) dispatch(ctx context.Context, name string, params []any) (any, error) {
	s.countCall(name)
	base, async := strings.CutPrefix(name, "Async.")
	m, ok := s.methods[base]
	if !ok {
		return nil, fail("MESSAGE_METHOD_UNKNOWN", name)
	}
	if async && !m.async {
		return nil, fail("Fault", fmt.Sprintf("No async mode for this operation (rpc: %s)", name))
	}
	if err := checkUTF8(params); err != nil {
		return nil, err
	}
	args, err := m.bind(name, params)
	if err != nil {
		return nil, err
	}
	c := &call{s: s, ctx: ctx, name: base}
	if !m.session {
		if err := s.slaveError(ctx); err != nil {
			return nil, err // a login on a pool member (xapi_session.ml)
		}
	}
	if m.session {
		ref, _ := params[0].(string)
		if c.session, err = s.checkSession(ref); err != nil {
			return nil, err
		}
		if err := s.slaveError(ctx); err != nil {
			return nil, err // a user session on a pool member (session_check.ml)
		}
	}
	if m.removed {
		return nil, fail("MESSAGE_REMOVED")
	}
	c.args = args
	if async {
		return s.runAsync(c, m.fn)
	}
	return m.fn(c)
}

// bind checks the param count and fills versioned params with their defaults.
func (m *method) bind(name string, params []any) ([]any, error) {
	skip := 0
	if m.session {
		skip = 1
	}
	got := len(params) - skip
	if got < m.required || got > m.required+len(m.defaults) {
		return nil, fail("MESSAGE_PARAMETER_COUNT_MISMATCH", name, fmt.Sprint(m.required), fmt.Sprint(max(got, 0)))
	}
	args := slices.Clone(params[skip:])
	args = append(args, m.defaults[got-m.required:]...)
	return args, nil
}

func checkUTF8(params []any) error {
	for _, p := range params {
		switch x := p.(type) {
		case string:
			if !utf8.ValidString(x) {
				return fail("INVALID_VALUE", "Invalid UTF-8 string in parameter", x)
			}
		case []any:
			if err := checkUTF8(x); err != nil {
				return err
			}
		case map[string]any:
			for k, v := range x {
				if err := checkUTF8([]any{k, v}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typeError(i int, want string, v any) error {
	return fail("FIELD_TYPE_ERROR", fmt.Sprintf("param %d: want %s, got %T", i+1, want, v))
}

func (c *call) str(i int) (string, error) {
	if s, ok := c.args[i].(string); ok {
		return s, nil
	}
	if n, ok := c.args[i].(int64); ok {
		return fmt.Sprint(n), nil
	}
	return "", typeError(i, "string", c.args[i])
}

func (c *call) boolean(i int) (bool, error) {
	b, ok := xmlrpc.AsBool(c.args[i])
	if !ok {
		return false, typeError(i, "bool", c.args[i])
	}
	return b, nil
}

func (c *call) float(i int) (float64, error) {
	f, ok := xmlrpc.AsFloat(c.args[i])
	if !ok {
		return 0, typeError(i, "float", c.args[i])
	}
	return f, nil
}

func (c *call) strs(i int) ([]string, error) {
	if c.args[i] == nil {
		return nil, nil
	}
	ss, ok := xmlrpc.AsStrings(c.args[i])
	if !ok {
		return nil, typeError(i, "string set", c.args[i])
	}
	return ss, nil
}

// obj resolves the ref in param i as a row of class; the caller holds st.mu.
func (c *call) obj(i int, class string) (*object, error) {
	ref, err := c.str(i)
	if err != nil {
		return nil, err
	}
	return c.s.st.get(class, ref)
}
