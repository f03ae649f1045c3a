package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// ErrMalformed is wrapped by every Decode error: the message is not a valid
// event of the contract and retrying cannot fix it.
var ErrMalformed = errors.New("malformed event")

// Received is a decoded message: the CloudEvent, its subject and its typed
// payload (a value such as ExportRequested, never a pointer).
type Received struct {
	Message
	Payload Payload
}

// Type is the event's type.
func (r Received) Type() Type { return Type(r.Event.Type()) }

// PayloadAs returns r's payload as T, or an error naming both types.
func PayloadAs[T Payload](r Received) (T, error) {
	p, ok := r.Payload.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("event %s: payload is %T, not %T", r.Event.ID(), r.Payload, zero)
	}
	return p, nil
}

// Decode turns a NATS message (subject, headers, body) into an event and
// its payload. Binary mode (ce-* headers, Content-Type: application/json)
// and structured mode (Content-Type: application/cloudevents+json) are
// accepted. Errors wrap ErrMalformed and name the attribute or field and
// the bad value.
func Decode(subject string, header map[string][]string, data []byte) (Received, error) {
	e, err := decodeEvent(header, data)
	if err != nil {
		return Received{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	p, err := decodePayload(e)
	if err != nil {
		return Received{}, fmt.Errorf("%w: event %q: %w", ErrMalformed, e.ID(), err)
	}
	return Received{Message: Message{Subject: subject, Event: e}, Payload: p}, nil
}

// Decode is Decode for a message read under s's prefix: an event whose type
// is not the one its subject carries (Carries) fails too. NATS grants
// publishing by subject, so only then is the event trusted to be of its type.
func (s Subjects) Decode(subject string, header map[string][]string, data []byte) (Received, error) {
	r, err := Decode(subject, header, data)
	if err != nil {
		return Received{}, err
	}
	if t := Type(r.Event.Type()); !s.Carries(subject, t) {
		return Received{}, fmt.Errorf("%w: a %s event on subject %q, which carries other events (want %s)",
			ErrMalformed, t, subject, s.Filter(t))
	}
	return r, nil
}

func decodeEvent(header map[string][]string, data []byte) (event.Event, error) {
	h := lowerHeaders(header)
	ct := h[strings.ToLower(HeaderContentType)]
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return event.Event{}, fmt.Errorf("Content-Type: %q: %w", ct, err)
		}
		if mt == ContentTypeStructured {
			return decodeStructured(data)
		}
		if mt != ContentTypeJSON {
			return event.Event{}, fmt.Errorf("Content-Type: %q is not %s or %s", ct, ContentTypeJSON, ContentTypeStructured)
		}
	}
	return decodeBinary(h, ct, data)
}

// lowerHeaders keeps the first value of each header, keyed in lower case.
func lowerHeaders(header map[string][]string) map[string]string {
	h := make(map[string]string, len(header))
	for k, v := range header {
		lk := strings.ToLower(k)
		if _, seen := h[lk]; !seen && len(v) > 0 {
			h[lk] = v[0]
		}
	}
	return h
}

func decodeBinary(h map[string]string, ct string, data []byte) (event.Event, error) {
	if v := h["ce-specversion"]; v != event.CloudEventsVersionV1 {
		if v == "" {
			return event.Event{}, errors.New("ce-specversion: missing (not a CloudEvent in binary mode)")
		}
		return event.Event{}, fmt.Errorf("ce-specversion: %q is not 1.0", v)
	}
	if ct == "" {
		return event.Event{}, fmt.Errorf("Content-Type: missing, want %s", ContentTypeJSON)
	}
	e := event.New(event.CloudEventsVersionV1)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if !strings.HasPrefix(k, HeaderPrefix) {
			continue
		}
		if err := setAttribute(&e, strings.TrimPrefix(k, HeaderPrefix), h[k]); err != nil {
			return event.Event{}, err
		}
	}
	e.SetDataContentType(ct)
	e.DataEncoded = data
	return e, checkEvent(e)
}

func setAttribute(e *event.Event, name, v string) error {
	switch name {
	case "specversion":
	case "id":
		e.SetID(v)
	case "source":
		e.SetSource(v)
	case "type":
		e.SetType(v)
	case "subject":
		e.SetSubject(v)
	case "dataschema":
		e.SetDataSchema(v)
	case "time":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("ce-time: %q is not an RFC 3339 time", v)
		}
		e.SetTime(t)
	case "datacontenttype":
		return fmt.Errorf("ce-datacontenttype: %q is not allowed in binary mode (use Content-Type)", v)
	default:
		if !event.IsExtensionNameValid(name) || strings.ToLower(name) != name {
			return fmt.Errorf("ce-%s: %q is not a valid extension attribute name", name, name)
		}
		e.SetExtension(name, v)
	}
	return nil
}

func decodeStructured(data []byte) (event.Event, error) {
	var e event.Event
	if err := json.Unmarshal(data, &e); err != nil {
		return event.Event{}, fmt.Errorf("structured event: %w", err)
	}
	if e.Context == nil || e.SpecVersion() != event.CloudEventsVersionV1 {
		return event.Event{}, fmt.Errorf("specversion: %q is not 1.0", e.SpecVersion())
	}
	if ct := e.DataContentType(); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != ContentTypeJSON {
			return event.Event{}, fmt.Errorf("datacontenttype: %q is not %s", ct, ContentTypeJSON)
		}
	}
	if e.DataBase64 {
		return event.Event{}, errors.New("data_base64: binary data is not allowed, want JSON data")
	}
	return e, checkEvent(e)
}

// checkEvent applies the contract's rules beyond the CloudEvents spec.
func checkEvent(e event.Event) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("invalid CloudEvent: %s", strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "))
	}
	if !Type(e.Type()).Known() {
		return fmt.Errorf("type: %q is not a known event type", e.Type())
	}
	if e.Time().IsZero() {
		return errors.New("time: missing")
	}
	if len(e.Data()) == 0 {
		return errors.New("data: missing")
	}
	return nil
}

func decodePayload(e event.Event) (Payload, error) {
	t := Type(e.Type())
	ptr, _ := newPayload(t)
	data := e.Data()
	if first := firstNonSpace(data); first != '{' {
		return nil, fmt.Errorf("data: %s is not a JSON object", quoteStart(data))
	}
	if err := decodeEvolving(data, ptr); err != nil {
		return nil, fmt.Errorf("data: %s: %w", t.Short(), err)
	}
	p := reflect.ValueOf(ptr).Elem().Interface().(Payload)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, checkScope(e, p)
}

// checkScope rejects an xbrrun/xbrjob attribute that contradicts the payload.
func checkScope(e event.Event, p Payload) error {
	s, ok := p.(scoped)
	if !ok {
		return nil
	}
	run, job := s.scope()
	for _, c := range []struct{ ext, want, field string }{{ExtensionRun, run, "run"}, {ExtensionJob, job, "job"}} {
		got, ok := e.Extensions()[c.ext]
		if ok && c.want != "" && fmt.Sprint(got) != c.want {
			return fmt.Errorf("ce-%s: %q does not match the payload's %s %q", c.ext, fmt.Sprint(got), c.field, c.want)
		}
	}
	return nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

func quoteStart(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q…", b[:40])
	}
	return fmt.Sprintf("%q", b)
}
