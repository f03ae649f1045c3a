package xapisim

import (
	"maps"
	"slices"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// prototypes give each class's published field set.
var prototypes = map[string]map[string]any{
	"VM":               vmRecord("", 0, 0),
	"VDI":              vdiRecord("", "", 0, 0),
	"VBD":              vbdRecord("", "", "", "Disk", false),
	"SR":               srRecord("", 0),
	"PBD":              pbdRecord("", ""),
	"Certificate":      certificateRecord("", hostCert{}),
	"pool":             poolRecord("", "", ""),
	"host":             hostRecord("", ""),
	"network":          networkRecord(),
	"task":             taskRecord("", "", "", time.Time{}),
	"VM_guest_metrics": guestMetricsRecord(time.Time{}),
}

// implicitMethods registers the generated getters and setters clients use.
func (s *Server) implicitMethods(r registry) {
	for _, class := range classes {
		fields := slices.Sorted(maps.Keys(prototypes[class]))
		r.add(class+".get_all", 0, s.getAll(class))
		r.add(class+".get_all_records", 0, s.getAllRecords(class))
		r.add(class+".get_record", 1, s.withObj(class, func(c *call, o *object) (any, error) {
			return snapshot(o.rec), nil
		}))
		r.add(class+".get_by_uuid", 1, s.getByUUID(class))
		for _, f := range fields {
			r.add(class+".get_"+f, 1, s.getField(class, f))
		}
		for _, f := range []string{"name_label", "name_description"} {
			if slices.Contains(fields, f) {
				r.add(class+".set_"+f, 2, s.setString(class, f))
			}
		}
		if slices.Contains(fields, "name_label") {
			r.add(class+".get_by_name_label", 1, s.getByField(class, "name_label"))
		}
		if slices.Contains(fields, "other_config") {
			s.mapMethods(r, class, "other_config")
		}
		if slices.Contains(fields, "tags") {
			r.add(class+".add_tags", 2, s.tagOp(class, true))
			r.add(class+".remove_tags", 2, s.tagOp(class, false))
		}
	}
	s.mapMethods(r, "VM", "blocked_operations")
	s.mapMethods(r, "VM", "xenstore_data")
}

// withObj runs fn under the store lock on the object named by param 0.
func (s *Server) withObj(class string, fn func(*call, *object) (any, error)) handlerFunc {
	return func(c *call) (any, error) {
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		o, err := c.obj(0, class)
		if err != nil {
			return nil, err
		}
		return fn(c, o)
	}
}

func (s *Server) getAll(class string) handlerFunc {
	return func(*call) (any, error) {
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		refs := []string{}
		for _, o := range s.st.all(class) {
			refs = append(refs, o.ref)
		}
		return refs, nil
	}
}

func (s *Server) getAllRecords(class string) handlerFunc {
	return func(*call) (any, error) {
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		out := map[string]any{}
		for _, o := range s.st.all(class) {
			out[o.ref] = snapshot(o.rec)
		}
		return out, nil
	}
}

func (s *Server) getByUUID(class string) handlerFunc {
	return func(c *call) (any, error) {
		id, err := c.str(0)
		if err != nil {
			return nil, err
		}
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		o, err := s.st.byUUID(class, id)
		if err != nil {
			return nil, err
		}
		return o.ref, nil
	}
}

func (s *Server) getByField(class, field string) handlerFunc {
	return func(c *call) (any, error) {
		v, err := c.str(0)
		if err != nil {
			return nil, err
		}
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		refs := []string{}
		for _, o := range s.st.all(class) {
			if o.str(field) == v {
				refs = append(refs, o.ref)
			}
		}
		return refs, nil
	}
}

func (s *Server) getField(class, field string) handlerFunc {
	return s.withObj(class, func(c *call, o *object) (any, error) {
		return snapshot(map[string]any{field: o.rec[field]})[field], nil
	})
}

func (s *Server) setString(class, field string) handlerFunc {
	return s.withObj(class, func(c *call, o *object) (any, error) {
		v, err := c.str(1)
		if err != nil {
			return nil, err
		}
		s.st.set(o, field, v)
		return "", nil
	})
}

// mapMethods registers add_to_<field>, remove_from_<field> and set_<field>.
func (s *Server) mapMethods(r registry, class, field string) {
	r.add(class+".add_to_"+field, 3, s.withObj(class, func(c *call, o *object) (any, error) {
		k, err := c.str(1)
		if err != nil {
			return nil, err
		}
		v, err := c.str(2)
		if err != nil {
			return nil, err
		}
		if _, dup := o.smap(field)[k]; dup {
			return nil, fail("MAP_DUPLICATE_KEY", class, field, o.ref, k)
		}
		s.st.putMap(o, field, k, v)
		return "", nil
	}))
	r.add(class+".remove_from_"+field, 2, s.withObj(class, func(c *call, o *object) (any, error) {
		k, err := c.str(1)
		if err != nil {
			return nil, err
		}
		s.st.deleteMap(o, field, k)
		return "", nil
	}))
	r.add(class+".set_"+field, 2, s.withObj(class, func(c *call, o *object) (any, error) {
		m, ok := xmlrpc.AsStringMap(c.args[1])
		if !ok {
			return nil, typeError(1, "(string -> string) map", c.args[1])
		}
		s.st.set(o, field, m)
		return "", nil
	}))
}

func (s *Server) tagOp(class string, add bool) handlerFunc {
	return s.withObj(class, func(c *call, o *object) (any, error) {
		tag, err := c.str(1)
		if err != nil {
			return nil, err
		}
		if add {
			s.st.addToSet(o, "tags", tag)
		} else {
			s.st.removeFromSet(o, "tags", tag)
		}
		return "", nil
	})
}
