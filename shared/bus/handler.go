package bus

import (
	"context"
	"errors"
	"time"

	"xbr/events"
)

// Event is what a handler receives: the decoded CloudEvent with its typed
// payload, and how it was delivered.
type Event struct {
	events.Received
	Delivery Delivery
}

// Delivery describes one delivery of a stored message.
type Delivery struct {
	Stream    string
	StreamSeq uint64
	Attempt   uint64    // 1 on first delivery
	Max       uint64    // the consumer's MaxDeliver; 0: unknown
	Stored    time.Time // when the stream stored the message
}

// Last reports whether this is the last delivery the consumer makes: if the
// handler fails now, the event is dead-lettered, so a handler that owes an
// outcome (a failed step, a failed run) reports it now instead.
func (d Delivery) Last() bool { return d.Max > 0 && d.Attempt >= d.Max }

// Out is a follow-up event and the subject to publish it on, as built by
// events.Subjects.Message.
type Out = events.Message

// Handler is the one shape of every function: consume an event, return the
// events it produces. Handlers never publish or ack; they are idempotent
// because delivery is at-least-once.
type Handler interface {
	Handle(ctx context.Context, ev Event) ([]Out, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev Event) ([]Out, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev Event) ([]Out, error) { return f(ctx, ev) }

// PermanentError marks an error that no retry can fix (bad input, or a
// handler giving up on its last delivery): the follow-ups returned with it
// are published first (a failed outcome, say), then the event is
// terminated and copied to the DLQ.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as permanent; Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or an error it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
