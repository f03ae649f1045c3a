package restoreclient

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
)

// HealthChecks reads the outcomes of every health check in the events
// stream (xbr.healthcheck.completed|failed) and returns the last one of
// each backup, by canonical backup id (catalog.ID.String). The history is
// where health checks live: Xen Orchestra's metadata of a backup has no
// place for them.
func HealthChecks(ctx context.Context, js jetstream.JetStream, w Watcher, s events.Subjects, names events.StreamNames) (map[string]catalog.Health, error) {
	names = names.WithDefaults()
	filters := []string{s.Filter(events.TypeHealthCheckCompleted), s.Filter(events.TypeHealthCheckFailed)}
	n, err := countSubjects(ctx, js, names.Events, filters)
	if err != nil || n == 0 {
		return map[string]catalog.Health{}, err
	}
	watch, err := w.Watch(ctx, bus.WatchOptions{Stream: names.Events, Subjects: filters})
	if err != nil {
		return nil, fmt.Errorf("health checks: %w", err)
	}
	defer watch.Close()
	out := map[string]catalog.Health{}
	for {
		r, err := watch.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("health checks: %w", err)
		}
		if r.Err == nil {
			applyHealth(out, r.Event)
		}
		if r.Pending == 0 {
			return out, nil
		}
	}
}

// countSubjects is how many messages of stream match filters now.
func countSubjects(ctx context.Context, js jetstream.JetStream, stream string, filters []string) (uint64, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("health checks: stream %s: %w", stream, err)
	}
	var n uint64
	for _, f := range filters {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(f))
		if err != nil {
			return 0, fmt.Errorf("health checks: stream %s: %w", stream, err)
		}
		for _, c := range info.State.Subjects {
			n += c
		}
	}
	return n, nil
}

func applyHealth(m map[string]catalog.Health, r events.Received) {
	switch p := r.Payload.(type) {
	case events.HealthCheckCompleted:
		m[canonicalID(p.BackupID)] = catalog.Health{Passed: true, RequestID: p.RequestID, At: r.Event.Time().UTC()}
	case events.HealthCheckFailed:
		m[canonicalID(p.BackupID)] = catalog.Health{Reason: p.Reason, Error: p.Error, RequestID: p.RequestID, At: r.Event.Time().UTC()}
	}
}

// canonicalID is a backup id as listings print it, or id as is.
func canonicalID(id string) string {
	if parsed, err := catalog.ParseID(id); err == nil {
		return parsed.String()
	}
	return id
}

// AnnotateHealth sets each backup's HealthCheck from checks.
func AnnotateHealth(backups []catalog.Backup, checks map[string]catalog.Health) {
	for i := range backups {
		if h, ok := checks[backups[i].ID.String()]; ok {
			backups[i].HealthCheck = &h
		}
	}
}
