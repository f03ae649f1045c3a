package events

import "time"

// Default stream names and limits. shared/bus turns these into JetStream
// stream configurations; every value is configurable for shared backbones.
// These are the only copies of the defaults: shared/config uses them, and a
// test checks that the documents quoting them say the same.
const (
	DefaultEventsStream    = "XBR_EVENTS"   // lifecycle events: the history
	DefaultProgressStream  = "XBR_PROGRESS" // high-rate progress events
	DefaultDLQStream       = "XBR_DLQ"      // events a function terminated
	DefaultEventsMaxAge    = 90 * 24 * time.Hour
	DefaultProgressMaxAge  = 7 * 24 * time.Hour
	DefaultDLQMaxAge       = 90 * 24 * time.Hour
	DefaultDuplicateWindow = time.Hour // longer than any redelivery of a follow-up publisher
)

// StreamNames names the streams; empty fields take the defaults.
type StreamNames struct {
	Events   string
	Progress string
	DLQ      string
}

// WithDefaults fills empty names with the defaults.
func (n StreamNames) WithDefaults() StreamNames {
	if n.Events == "" {
		n.Events = DefaultEventsStream
	}
	if n.Progress == "" {
		n.Progress = DefaultProgressStream
	}
	if n.DLQ == "" {
		n.DLQ = DefaultDLQStream
	}
	return n
}

// For is the stream that stores events of type t.
func (n StreamNames) For(t Type) string {
	n = n.WithDefaults()
	if t.IsProgress() {
		return n.Progress
	}
	return n.Events
}
