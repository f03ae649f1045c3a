package events_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"xbr/events"
)

func exampleMessage(t testing.TB, p events.Payload) events.Message {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{
		ID: events.DeriveID(string(p.EventType()), "example"), Source: events.Source(p.EventType().Domain()), Time: exFire,
	}, p)
	if err != nil {
		t.Fatalf("%s: %v", p.EventType(), err)
	}
	return m
}

func TestRoundTripBinaryAndStructured(t *testing.T) {
	for _, p := range examples() {
		m := exampleMessage(t, p)
		h, data, err := events.Encode(m.Event)
		if err != nil {
			t.Fatal(err)
		}
		if h["Content-Type"][0] != "application/json" || h["ce-specversion"][0] != "1.0" || h["ce-id"][0] != m.Event.ID() {
			t.Errorf("%s: headers %v", p.EventType(), h)
		}
		got, err := events.Decode(m.Subject, h, data)
		if err != nil {
			t.Fatalf("%s: decode binary: %v", p.EventType(), err)
		}
		checkSame(t, "binary", m, p, got)

		structured, err := json.Marshal(m.Event)
		if err != nil {
			t.Fatal(err)
		}
		got, err = events.Decode(m.Subject, map[string][]string{"content-type": {"application/cloudevents+json; charset=utf-8"}}, structured)
		if err != nil {
			t.Fatalf("%s: decode structured: %v", p.EventType(), err)
		}
		checkSame(t, "structured", m, p, got)
	}
}

func checkSame(t *testing.T, mode string, m events.Message, p events.Payload, got events.Received) {
	t.Helper()
	if !reflect.DeepEqual(got.Payload, p) {
		t.Errorf("%s %s: payload %#v, want %#v", mode, p.EventType(), got.Payload, p)
	}
	e := got.Event
	if e.ID() != m.Event.ID() || e.Type() != string(p.EventType()) || !e.Time().Equal(exFire) ||
		e.Source() != m.Event.Source() || e.Subject() != m.Subject || got.Subject != m.Subject || got.Type() != p.EventType() {
		t.Errorf("%s %s: event %v", mode, p.EventType(), e)
	}
	if run, job := e.Extensions()["xbrrun"], e.Extensions()["xbrjob"]; run != m.Event.Extensions()["xbrrun"] || job != m.Event.Extensions()["xbrjob"] {
		t.Errorf("%s %s: extensions %v", mode, p.EventType(), e.Extensions())
	}
}

func TestNewSetsScopeAndRejectsBadInput(t *testing.T) {
	p := examples()[3].(events.ExportRequested)
	m := exampleMessage(t, p)
	if m.Event.Extensions()["xbrrun"] != exRun || m.Event.Extensions()["xbrjob"] != "nightly" || m.Event.DataContentType() != "application/json" {
		t.Errorf("event %v", m.Event)
	}
	if _, err := events.New(events.Meta{Source: "/xbr/x", Time: exFire}, p); err == nil || !strings.Contains(err.Error(), "event id is required") {
		t.Errorf("missing id: %v", err)
	}
	p.VMUUID = "zz"
	if _, err := events.New(events.Meta{ID: "1", Source: "/xbr/x", Time: exFire}, p); err == nil || !strings.Contains(err.Error(), `vm_uuid: "zz"`) {
		t.Errorf("bad payload: %v", err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	good := exampleMessage(t, examples()[3])
	gh, gdata, err := events.Encode(good.Event)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header func(h map[string][]string)
		data   string
		want   string
	}{
		{"no headers", func(h map[string][]string) { clear(h) }, "", "ce-specversion: missing"},
		{"spec 0.3", set("ce-specversion", "0.3"), "", `ce-specversion: "0.3" is not 1.0`},
		{"no content type", del("Content-Type"), "", "Content-Type: missing"},
		{"xml", set("Content-Type", "text/xml"), "", `Content-Type: "text/xml" is not application/json`},
		{"unknown type", set("ce-type", "xbr.export.exploded"), "", `type: "xbr.export.exploded" is not a known event type`},
		{"no id", del("ce-id"), "", "invalid CloudEvent: id"},
		{"no source", del("ce-source"), "", "invalid CloudEvent: source"},
		{"bad time", set("ce-time", "yesterday"), "", `ce-time: "yesterday" is not an RFC 3339 time`},
		{"no time", del("ce-time"), "", "time: missing"},
		{"bad extension", set("ce-xbr_run", "x"), "", `ce-xbr_run: "xbr_run" is not a valid extension attribute name`},
		{"contradicting run", set("ce-xbrrun", "other"), "", `ce-xbrrun: "other" does not match the payload's run`},
		{"empty body", nil, "-", "data: missing"},
		{"array body", nil, "[1]", `data: "[1]" is not a JSON object`},
		{"null body", nil, "null", `is not a JSON object`},
		{"truncated", nil, `{"run_id":"x"`, "data: export.requested: not valid JSON: unexpected end of JSON input"},
		{"wrong type", nil, `{"remotes":"nfs"}`, `field "remotes": JSON string is not a []string`},
		{"trailing", nil, `{} {}`, "invalid character"},
		{"field name in another case", nil, strings.Replace(string(gdata), `"vm_uuid"`, `"VM_UUID"`, 1), `"VM_UUID"`},
		{"duplicate key", nil, strings.Replace(string(gdata), `{`, `{"vm_uuid":"zz",`, 1), `field "vm_uuid": duplicate key`},
		{"fails validate", nil, strings.Replace(string(gdata), exVM, "zz", 1), `export.requested: vm_uuid: "zz" is not a UUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cloneHeader(gh)
			if tt.header != nil {
				tt.header(h)
			}
			data := gdata
			switch tt.data {
			case "":
			case "-":
				data = nil
			default:
				data = []byte(tt.data)
			}
			_, err := events.Decode(good.Subject, h, data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode() = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, events.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestDecodeStructuredRejects(t *testing.T) {
	ct := map[string][]string{"Content-Type": {"application/cloudevents+json"}}
	tests := map[string]string{
		`{"specversion":"1.0"`: "structured event",
		`{"specversion":"0.3","id":"1","source":"/x","type":"xbr.run.started"}`:                                                                                         "specversion",
		`{"specversion":"1.0","id":"1","source":"/x","type":"xbr.run.started","time":"2026-11-29T01:00:00Z","datacontenttype":"text/plain","data":"x"}`:                 `datacontenttype: "text/plain"`,
		`{"specversion":"1.0","id":"1","source":"/x","type":"xbr.run.started","time":"2026-11-29T01:00:00Z","datacontenttype":"application/json","data_base64":"AA=="}`: "data_base64",
	}
	for body, want := range tests {
		if _, err := events.Decode("s", ct, []byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want %q", body, err, want)
		}
	}
}

func TestPayloadAs(t *testing.T) {
	r, err := decodeExample(t, examples()[3])
	if err != nil {
		t.Fatal(err)
	}
	if p, err := events.PayloadAs[events.ExportRequested](r); err != nil || p.VMUUID != exVM {
		t.Errorf("PayloadAs = %+v, %v", p, err)
	}
	if _, err := events.PayloadAs[events.RestoreRequested](r); err == nil || !strings.Contains(err.Error(), "events.ExportRequested") {
		t.Errorf("PayloadAs wrong type = %v", err)
	}
}

func decodeExample(t *testing.T, p events.Payload) (events.Received, error) {
	m := exampleMessage(t, p)
	h, d, err := events.Encode(m.Event)
	if err != nil {
		return events.Received{}, err
	}
	return events.Decode(m.Subject, h, d)
}

func set(k, v string) func(map[string][]string) {
	return func(h map[string][]string) { h[k] = []string{v} }
}

func del(k string) func(map[string][]string) {
	return func(h map[string][]string) { delete(h, k) }
}

func cloneHeader(h map[string][]string) map[string][]string {
	out := maps.Clone(h)
	for k, v := range out {
		out[k] = append([]string(nil), v...)
	}
	return out
}
