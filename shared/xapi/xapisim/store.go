package xapisim

import (
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/google/uuid"
)

const nullRef = "OpaqueRef:NULL"

// classes are the tables the simulator keeps, as XAPI names them.
var classes = []string{"VM", "VBD", "VDI", "SR", "PBD", "pool", "host", "Certificate", "network", "task", "VM_guest_metrics"}

// classByLower maps a lower-case class name to its canonical spelling.
var classByLower = func() map[string]string {
	m := make(map[string]string, len(classes))
	for _, c := range classes {
		m[lower(c)] = c
	}
	return m
}()

// object is one database row.
type object struct {
	class    string
	ref      string
	rec      map[string]any
	created  uint64
	modified uint64
}

type tomb struct {
	class, ref string
	gen        uint64
}

// maxTombs bounds the deleted-object log; older tokens get EVENTS_LOST.
const maxTombs = 10000

// store is the mutex-protected database. Methods whose names do not start
// with "locked" must be called with mu held.
type store struct {
	mu        sync.Mutex
	gen       uint64
	objs      map[string]*object
	byClass   map[string]map[string]*object
	changed   chan struct{}
	tombs     []tomb
	lostBelow uint64
}

func newStore() *store {
	st := &store{objs: map[string]*object{}, byClass: map[string]map[string]*object{}, changed: make(chan struct{})}
	for _, c := range classes {
		st.byClass[c] = map[string]*object{}
	}
	return st
}

func newRef() string { return "OpaqueRef:" + uuid.NewString() }

// notify wakes every event.from waiter.
func (st *store) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// add inserts a new row and returns it.
func (st *store) add(class string, rec map[string]any) *object {
	st.gen++
	o := &object{class: class, ref: newRef(), rec: rec, created: st.gen, modified: st.gen}
	st.objs[o.ref] = o
	st.byClass[class][o.ref] = o
	st.notify()
	return o
}

// get returns the row ref of class, or HANDLE_INVALID.
func (st *store) get(class, ref string) (*object, error) {
	o, ok := st.byClass[class][ref]
	if !ok {
		return nil, handleInvalid(class, ref)
	}
	return o, nil
}

// touch marks o modified (a mod event).
func (st *store) touch(o *object) {
	st.gen++
	o.modified = st.gen
	st.notify()
}

// set changes one field of o.
func (st *store) set(o *object, field string, v any) {
	o.rec[field] = v
	st.touch(o)
}

// del removes o (a del event).
func (st *store) del(o *object) {
	if _, ok := st.objs[o.ref]; !ok {
		return
	}
	delete(st.objs, o.ref)
	delete(st.byClass[o.class], o.ref)
	st.gen++
	st.tombs = append(st.tombs, tomb{class: o.class, ref: o.ref, gen: st.gen})
	if len(st.tombs) > maxTombs {
		drop := len(st.tombs) - maxTombs/2
		st.lostBelow = st.tombs[drop-1].gen
		st.tombs = slices.Clone(st.tombs[drop:])
	}
	st.notify()
}

// all returns the rows of class ordered by creation.
func (st *store) all(class string) []*object {
	out := make([]*object, 0, len(st.byClass[class]))
	for _, o := range st.byClass[class] {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].created < out[j].created })
	return out
}

// byUUID finds a row of class by its uuid field.
func (st *store) byUUID(class, id string) (*object, error) {
	for _, o := range st.byClass[class] {
		if o.rec["uuid"] == id {
			return o, nil
		}
	}
	return nil, fail("UUID_INVALID", class, id)
}

// byRefOrUUID resolves either a ref or a uuid, as the HTTP handlers accept both.
func (st *store) byRefOrUUID(class, id string) (*object, error) {
	if o, err := st.get(class, id); err == nil {
		return o, nil
	}
	if o, err := st.byUUID(class, id); err == nil {
		return o, nil
	}
	return nil, handleInvalid(class, id)
}

// addToSet appends ref to the set field of o unless present.
func (st *store) addToSet(o *object, field, ref string) {
	set, _ := o.rec[field].([]string)
	if slices.Contains(set, ref) {
		return
	}
	st.set(o, field, append(slices.Clone(set), ref))
}

// removeFromSet removes ref from the set field of o.
func (st *store) removeFromSet(o *object, field, ref string) {
	set, _ := o.rec[field].([]string)
	if !slices.Contains(set, ref) {
		return
	}
	st.set(o, field, slices.DeleteFunc(slices.Clone(set), func(s string) bool { return s == ref }))
}

// putMap sets key in the map field of o.
func (st *store) putMap(o *object, field, key, value string) {
	m := maps.Clone(o.rec[field].(map[string]string))
	m[key] = value
	st.set(o, field, m)
}

// deleteMap removes key from the map field of o.
func (st *store) deleteMap(o *object, field, key string) {
	m := o.rec[field].(map[string]string)
	if _, ok := m[key]; !ok {
		return
	}
	m = maps.Clone(m)
	delete(m, key)
	st.set(o, field, m)
}

// snapshot deep-copies a record so it can be encoded after the lock is released.
func snapshot(rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		switch x := v.(type) {
		case []string:
			out[k] = slices.Clone(x)
		case map[string]string:
			out[k] = maps.Clone(x)
		default:
			out[k] = v
		}
	}
	return out
}

// str returns a string field.
func (o *object) str(field string) string { s, _ := o.rec[field].(string); return s }

// flag returns a bool field.
func (o *object) flag(field string) bool { b, _ := o.rec[field].(bool); return b }

// num returns an int field.
func (o *object) num(field string) int64 { n, _ := o.rec[field].(int64); return n }

// refs returns a ref-set field.
func (o *object) refs(field string) []string { s, _ := o.rec[field].([]string); return slices.Clone(s) }

// smap returns a copy of a (string -> string) map field.
func (o *object) smap(field string) map[string]string {
	m, _ := o.rec[field].(map[string]string)
	return maps.Clone(m)
}
