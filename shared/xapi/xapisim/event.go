package xapisim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

func (s *Server) eventMethods(r registry) {
	r.add("event.from", 3, s.eventFrom)
	r.add("event.inject", 2, s.eventInject)
	r.add("event.get_current_id", 0, func(*call) (any, error) {
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		return int64(s.st.gen), nil
	})
}

func formatToken(gen uint64) string { return fmt.Sprintf("%020d,%020d", gen, 0) }

func parseToken(tok string) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	gen, _, _ := strings.Cut(tok, ",")
	n, err := strconv.ParseUint(strings.TrimSpace(gen), 10, 64)
	if err != nil {
		return 0, fail("EVENT_FROM_TOKEN_PARSE_FAILURE", tok)
	}
	return n, nil
}

// subscription is the parsed classes argument of event.from.
type subscription struct {
	all     bool
	classes map[string]bool
	objects map[string]bool
}

func parseSubscription(subs []string) subscription {
	sub := subscription{classes: map[string]bool{}, objects: map[string]bool{}}
	for _, e := range subs {
		if e == "*" {
			sub.all = true
			continue
		}
		cls, ref, hasRef := strings.Cut(e, "/")
		if c, ok := classByLower[lower(cls)]; ok {
			if hasRef {
				sub.objects[ref] = true
			} else {
				sub.classes[c] = true
			}
		}
	}
	return sub
}

func (sub subscription) wants(class, ref string) bool {
	return sub.all || sub.classes[class] || sub.objects[ref]
}

func (s *Server) eventFrom(c *call) (any, error) {
	subs, err := c.strs(0)
	if err != nil {
		return nil, err
	}
	tok, err := c.str(1)
	if err != nil {
		return nil, err
	}
	timeout, err := c.float(2)
	if err != nil {
		return nil, err
	}
	since, err := parseToken(tok)
	if err != nil {
		return nil, err
	}
	sub := parseSubscription(subs)
	if !(timeout >= 0) { // negative or NaN
		timeout = 0
	}
	deadline := time.NewTimer(time.Duration(min(timeout, 86400) * float64(time.Second)))
	defer deadline.Stop()
	for {
		s.st.mu.Lock()
		if since != 0 && since < s.st.lostBelow {
			s.st.mu.Unlock()
			return nil, fail("EVENTS_LOST")
		}
		batch, n := s.collectEvents(sub, since, tok == "")
		changed := s.st.changed
		s.st.mu.Unlock()
		if n > 0 {
			return batch, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.st.mu.Lock()
			batch, _ = s.collectEvents(sub, since, tok == "")
			s.st.mu.Unlock()
			return batch, nil
		case <-c.ctx.Done():
			return nil, c.ctx.Err()
		case <-s.done:
			return nil, fail("INTERNAL_ERROR", "server shutting down")
		}
	}
}

type pending struct {
	op  int // 0 add, 1 mod, 2 del
	gen uint64
	ev  xmlrpc.Struct
}

// collectEvents builds the batch of changes after since; st.mu is held.
func (s *Server) collectEvents(sub subscription, since uint64, all bool) (xmlrpc.Struct, int) {
	var evs []pending
	for _, class := range classes {
		for _, o := range s.st.byClass[class] {
			if !sub.wants(class, o.ref) || (o.modified <= since && !all) {
				continue
			}
			op := 1
			if all || o.created > since {
				op = 0
			}
			evs = append(evs, pending{op, o.modified, event(o.modified, class, []string{"add", "mod"}[op], o.ref, snapshot(o.rec))})
		}
	}
	if !all {
		for _, t := range s.st.tombs {
			if t.gen > since && sub.wants(t.class, t.ref) {
				evs = append(evs, pending{2, t.gen, event(t.gen, t.class, "del", t.ref, nil)})
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].op != evs[j].op {
			return evs[i].op < evs[j].op
		}
		return evs[i].gen < evs[j].gen
	})
	list := make([]any, len(evs))
	for i, e := range evs {
		list[i] = e.ev
	}
	counts := map[string]any{}
	for _, class := range classes {
		counts[lower(class)] = xmlrpc.I4(len(s.st.byClass[class]))
	}
	return xmlrpc.Struct{
		{Name: "events", Value: list},
		{Name: "valid_ref_counts", Value: counts},
		{Name: "token", Value: formatToken(s.st.gen)},
	}, len(evs)
}

func event(gen uint64, class, op, ref string, rec map[string]any) xmlrpc.Struct {
	ev := xmlrpc.Struct{
		{Name: "id", Value: strconv.FormatUint(gen, 10)},
		{Name: "timestamp", Value: "0.0"},
		{Name: "class", Value: lower(class)},
		{Name: "operation", Value: op},
		{Name: "ref", Value: ref},
	}
	if rec != nil {
		ev = append(ev, xmlrpc.Member{Name: "snapshot", Value: rec})
	}
	return ev
}

func (s *Server) eventInject(c *call) (any, error) {
	cls, err := c.str(0)
	if err != nil {
		return nil, err
	}
	ref, err := c.str(1)
	if err != nil {
		return nil, err
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	class, ok := classByLower[lower(cls)]
	if !ok {
		return nil, handleInvalid(cls, ref)
	}
	o, err := s.st.get(class, ref)
	if err != nil {
		return nil, err
	}
	before := s.st.gen
	s.st.touch(o)
	return formatToken(before), nil
}
