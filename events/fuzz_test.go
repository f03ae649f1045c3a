package events_test

import (
	"errors"
	"strings"
	"testing"

	"xbr/events"
)

// FuzzDecode feeds arbitrary headers and bodies to Decode: it must never
// panic, every error must wrap ErrMalformed, and whatever it accepts must
// be a valid event that encodes and decodes to the same payload.
func FuzzDecode(f *testing.F) {
	for _, p := range examples()[:6] {
		m := exampleMessage(f, p)
		h, data, err := events.Encode(m.Event)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(headerText(h), data)
	}
	f.Add("Content-Type: application/cloudevents+json\n", []byte(`{"specversion":"1.0","id":"1","source":"/x","type":"xbr.restore.requested","time":"2026-11-29T01:00:00Z","data":{"request_id":"r","backup_id":"a/b","pool":"p"}}`))
	f.Add("ce-specversion: 1.0\n", []byte("{}"))
	f.Fuzz(func(t *testing.T, headers string, data []byte) {
		h := parseHeaderText(headers)
		r, err := events.Decode("xbr.fuzz", h, data)
		if err != nil {
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := r.Payload.Validate(); err != nil {
			t.Fatalf("accepted an invalid payload: %v", err)
		}
		h2, d2, err := events.Encode(r.Event)
		if err != nil {
			return // e.g. a header value events.Encode refuses (line break)
		}
		r2, err := events.Decode("xbr.fuzz", h2, d2)
		if err != nil {
			t.Fatalf("re-decode of an accepted event: %v", err)
		}
		if r2.Type() != r.Type() || r2.Event.ID() != r.Event.ID() {
			t.Fatalf("round trip changed the event: %v vs %v", r2.Event, r.Event)
		}
	})
}

func headerText(h map[string][]string) string {
	var b strings.Builder
	for k, v := range h {
		b.WriteString(k + ": " + v[0] + "\n")
	}
	return b.String()
}

func parseHeaderText(s string) map[string][]string {
	h := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			h[k] = append(h[k], v)
		}
	}
	return h
}
