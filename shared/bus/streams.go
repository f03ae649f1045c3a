package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// Topology names and sizes xbr's streams. The zero value means: prefix
// "xbr", streams XBR_EVENTS / XBR_PROGRESS / XBR_DLQ, the default ages, no
// byte limit, one replica, a one-hour duplicate window.
type Topology struct {
	Subjects        events.Subjects
	Streams         events.StreamNames
	EventsMaxAge    time.Duration
	ProgressMaxAge  time.Duration
	DLQMaxAge       time.Duration
	Replicas        int
	DuplicateWindow time.Duration
	// EventsMaxBytes, ProgressMaxBytes and DLQMaxBytes cap each stream's
	// size (0: no cap); when full, the oldest messages are dropped. They
	// matter on a shared backbone, where xbr's streams share the disk.
	EventsMaxBytes, ProgressMaxBytes, DLQMaxBytes int64
}

// StreamConfigs are the JetStream configurations EnsureStreams applies.
// The history (the events stream) is the audit trail: it refuses message
// deletes and purges (DenyDelete, DenyPurge); only its age and byte limits
// remove events. JetStream lets an update set these flags on an existing
// stream but never clear them, so nothing in xbr deletes from it.
func (t Topology) StreamConfigs() []jetstream.StreamConfig {
	names := t.Streams.WithDefaults()
	history := t.stream(names.Events, "xbr lifecycle events: the history", t.Subjects.LifecycleFilters(),
		durationOr(t.EventsMaxAge, events.DefaultEventsMaxAge), t.EventsMaxBytes)
	history.DenyDelete, history.DenyPurge = true, true
	return []jetstream.StreamConfig{
		history,
		t.stream(names.Progress, "xbr progress events (short-lived)", t.Subjects.ProgressFilters(),
			durationOr(t.ProgressMaxAge, events.DefaultProgressMaxAge), t.ProgressMaxBytes),
		t.stream(names.DLQ, "events xbr functions terminated, with the reason", []string{t.Subjects.DLQFilter()},
			durationOr(t.DLQMaxAge, events.DefaultDLQMaxAge), t.DLQMaxBytes),
	}
}

func (t Topology) stream(name, desc string, subjects []string, maxAge time.Duration, maxBytes int64) jetstream.StreamConfig {
	dup := min(durationOr(t.DuplicateWindow, events.DefaultDuplicateWindow), maxAge)
	if maxBytes <= 0 {
		maxBytes = -1 // JetStream's "no limit"
	}
	return jetstream.StreamConfig{
		Name:        name,
		Description: desc,
		Subjects:    subjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      maxAge,
		MaxBytes:    maxBytes,
		Replicas:    max(t.Replicas, 1),
		Duplicates:  dup,
	}
}

// EnsureStreams creates the streams and the KV buckets of t, or updates
// them to t; running it again with the same topology changes nothing. Only
// the admin identity may do this (events.Role.Grant): a stream's
// configuration decides where the server republishes what it stores. It
// refuses to update a stream of the same name that holds subjects outside
// t's prefix: on a shared backbone that stream belongs to another xbr
// installation (another prefix) or to another application, and the update
// would take its subjects away.
func (c *Conn) EnsureStreams(ctx context.Context, t Topology) error {
	check := true
	for _, cfg := range t.StreamConfigs() {
		if err := events.ValidToken(cfg.Name); err != nil {
			return fmt.Errorf("stream name: %w", err)
		}
		if check {
			err := c.checkOwnStream(ctx, cfg, t.Subjects.Prefix())
			if timedOut(err) && ctx.Err() == nil {
				// A login granted before this check (xbr nats permissions of
				// an earlier xbr) may not read stream info: go on as before,
				// without it, rather than refuse to start.
				c.log.Warn("streams not checked for another owner: no answer to stream info (may this login read $JS.API.STREAM.INFO.<stream>? see xbr nats permissions)",
					"stream", cfg.Name, "err", err)
				check = false
			} else if err != nil {
				return err
			}
		}
		err := ensure(ctx, func(ctx context.Context) error {
			_, err := c.js.CreateOrUpdateStream(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
		}
	}
	return c.ensureBuckets(ctx, t)
}

// checkOwnStream fails when stream cfg.Name exists with a subject that is
// not one xbr would give it under prefix.
func (c *Conn) checkOwnStream(ctx context.Context, cfg jetstream.StreamConfig, prefix string) error {
	var have []string
	actx, cancel := context.WithTimeout(ctx, ensureAttemptTimeout) // one try: a read does not race
	s, err := c.js.Stream(actx, cfg.Name)
	cancel()
	if err == nil {
		have = s.CachedInfo().Config.Subjects
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	if foreign := foreignSubjects(have, cfg.Subjects, prefix); len(foreign) > 0 {
		more := ""
		if len(foreign) > 1 {
			more = fmt.Sprintf(" and %d more", len(foreign)-1)
		}
		return fmt.Errorf("stream %s exists with subjects outside prefix %q (%q%s): it belongs to another xbr "+
			"installation or application (or to this one under an earlier prefix), so xbr leaves it alone; "+
			"give each installation its own NATS account",
			cfg.Name, prefix, foreign[0], more)
	}
	return nil
}

// foreignSubjects are the subjects of have that are not of the form of
// want's under prefix: <prefix>. followed by as many tokens as want's have
// (so "acme.backup.x.y.>" is not under prefix "acme"). A stream with no
// subjects (a mirror) is foreign too.
func foreignSubjects(have, want []string, prefix string) []string {
	if len(have) == 0 {
		return []string{"(none)"}
	}
	var out []string
	for _, h := range have {
		own := strings.HasPrefix(h, prefix+".") && slices.ContainsFunc(want, func(w string) bool {
			return strings.Count(w, ".") == strings.Count(h, ".")
		})
		if !own {
			out = append(out, h)
		}
	}
	return out
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ErrKVChanged is a compare-and-set on a key-value bucket that found the key
// changed since its revision was read: another writer (a replica) got there
// first.
var ErrKVChanged = errors.New("the key changed since it was read")

// PutIfRevision writes value under key only if the key is still at revision
// rev (0: only if it does not exist), and returns the new revision; another
// writer's change in between gives ErrKVChanged.
func PutIfRevision(ctx context.Context, kv jetstream.KeyValue, key string, value []byte, rev uint64) (uint64, error) {
	var err error
	if rev == 0 {
		rev, err = kv.Create(ctx, key, value)
	} else {
		rev, err = kv.Update(ctx, key, value, rev)
	}
	if err != nil && (errors.Is(err, jetstream.ErrKeyExists) || IsRevisionConflict(err)) {
		return 0, fmt.Errorf("%s: %w", key, ErrKVChanged)
	}
	return rev, err
}

// IsRevisionConflict reports whether err is JetStream refusing a write or a
// delete made at a revision that is no longer the key's last.
func IsRevisionConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
