package events

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// CloudEvent attributes and NATS headers of the binary mode.
const (
	HeaderPrefix          = "ce-"
	HeaderContentType     = "Content-Type"
	ContentTypeJSON       = "application/json"
	ContentTypeStructured = "application/cloudevents+json"
	ExtensionRun          = "xbrrun" // run id (or restore request id)
	ExtensionJob          = "xbrjob" // job name
)

// Meta is what a producer supplies besides the payload.
type Meta struct {
	ID      string    // required; DeriveID where a retry could publish twice
	Source  string    // required; Source(function) for xbr's functions
	Time    time.Time // required; the producer's clock
	Subject string    // optional CloudEvents subject
	Run     string    // xbrrun; defaults to the payload's run id
	Job     string    // xbrjob; defaults to the payload's job
}

// Source is the CloudEvents source of an xbr function ("/xbr/export").
func Source(function string) string { return "/xbr/" + function }

// Message is a CloudEvent and the NATS subject it travels on.
type Message struct {
	Subject string
	Event   event.Event
}

// produced is a payload that asks more of a new event than of one read
// back from a stream: a field a later contract version requires of
// producers, which events stored before it lack.
type produced interface{ validateNew() error }

// New builds a CloudEvent (specversion 1.0, application/json) from a valid
// payload.
func New(m Meta, p Payload) (event.Event, error) {
	if err := p.Validate(); err != nil {
		return event.Event{}, err
	}
	if np, ok := p.(produced); ok {
		if err := np.validateNew(); err != nil {
			return event.Event{}, err
		}
	}
	t := p.EventType()
	var errs []error
	if m.ID == "" {
		errs = append(errs, fmt.Errorf("%s: event id is required", t.Short()))
	}
	if m.Source == "" {
		errs = append(errs, fmt.Errorf("%s: event source is required", t.Short()))
	}
	if m.Time.IsZero() {
		errs = append(errs, fmt.Errorf("%s: event time is required", t.Short()))
	}
	if len(errs) > 0 {
		return event.Event{}, errors.Join(errs...)
	}
	e := event.New(event.CloudEventsVersionV1)
	e.SetID(m.ID)
	e.SetSource(m.Source)
	e.SetType(string(t))
	e.SetTime(m.Time.UTC())
	if m.Subject != "" {
		e.SetSubject(m.Subject)
	}
	setScope(&e, m, p)
	if err := e.SetData(ContentTypeJSON, p); err != nil {
		return event.Event{}, fmt.Errorf("%s: encode data: %w", t.Short(), err)
	}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("%s: %w", t.Short(), err)
	}
	return e, nil
}

func setScope(e *event.Event, m Meta, p Payload) {
	if s, ok := p.(scoped); ok {
		run, job := s.scope()
		if m.Run == "" {
			m.Run = run
		}
		if m.Job == "" {
			m.Job = job
		}
	}
	if m.Run != "" {
		e.SetExtension(ExtensionRun, m.Run)
	}
	if m.Job != "" {
		e.SetExtension(ExtensionJob, m.Job)
	}
}

// Message builds the event for p and its subject (s.Of(p)). The CloudEvents
// subject defaults to the NATS subject.
func (s Subjects) Message(m Meta, p Payload) (Message, error) {
	subject := s.Of(p)
	if m.Subject == "" {
		m.Subject = subject
	}
	e, err := New(m, p)
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: subject, Event: e}, nil
}

// Encode renders e in binary mode: ce-* headers, Content-Type and the data.
func Encode(e event.Event) (map[string][]string, []byte, error) {
	if err := e.Validate(); err != nil {
		return nil, nil, fmt.Errorf("encode event %q: %w", e.ID(), err)
	}
	h := map[string][]string{
		HeaderPrefix + "specversion": {e.SpecVersion()},
		HeaderPrefix + "id":          {e.ID()},
		HeaderPrefix + "source":      {e.Source()},
		HeaderPrefix + "type":        {e.Type()},
	}
	if !e.Time().IsZero() {
		h[HeaderPrefix+"time"] = []string{e.Time().UTC().Format(time.RFC3339Nano)}
	}
	if e.Subject() != "" {
		h[HeaderPrefix+"subject"] = []string{e.Subject()}
	}
	if e.DataSchema() != "" {
		h[HeaderPrefix+"dataschema"] = []string{e.DataSchema()}
	}
	for k, v := range e.Extensions() {
		h[HeaderPrefix+k] = []string{fmt.Sprint(v)}
	}
	ct := e.DataContentType()
	if ct == "" {
		ct = ContentTypeJSON
	}
	h[HeaderContentType] = []string{ct}
	for k, v := range h {
		if strings.ContainsAny(v[0], "\r\n") {
			return nil, nil, fmt.Errorf("encode event %q: %s: %q contains a line break", e.ID(), k, v[0])
		}
	}
	return h, e.Data(), nil
}
