package integrity

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"xbr/events"
	"xbr/shared/catalog"
)

// All verifies every backup on r, oldest first per VM as listed. A .json
// that cannot be listed (unreadable, invalid, or without its .xva) is a
// failed Result too, so a damaged backup never passes unnoticed; a kind xbr
// does not handle yet (catalog.Unsupported) is a skipped Result. The error
// is set only when the remote cannot be listed.
func All(ctx context.Context, r Remote, o Options) ([]Result, error) {
	backups, problems, err := catalog.List(ctx, r, catalog.Filter{})
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, p := range problems {
		id, ok := idOfKey(r.Name(), p.Key)
		if !ok {
			continue // not a backup's .json: nothing to verify
		}
		if catalog.Unsupported(p.Err) {
			out = append(out, Result{ID: id, Deep: o.Deep, Skipped: skipReason(p.Err)})
			continue
		}
		out = append(out, Result{ID: id, Deep: o.Deep, Err: fmt.Errorf("%w: %s: %w", ErrCorrupt, p.Key, p.Err)})
	}
	for _, b := range backups {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, Backup(ctx, r, b.ID, o))
	}
	return out, nil
}

// skipReason is the line a skipped backup is reported with.
func skipReason(err error) string {
	for _, e := range []error{catalog.ErrXODelta, catalog.ErrEncryptedRemote} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error()
}

// idOfKey reads "xo-vm-backups/<uuid>/<ts>.json" back into an id.
func idOfKey(remoteName, key string) (catalog.ID, bool) {
	dir, file := path.Split(key)
	ts, ok := strings.CutSuffix(file, catalog.MetaSuffix)
	if !ok {
		return catalog.ID{}, false
	}
	t, err := catalog.ParseTimestamp(ts)
	if err != nil {
		return catalog.ID{}, false
	}
	vm := path.Base(strings.TrimSuffix(dir, "/"))
	id, err := catalog.NewID(remoteName, vm, t)
	if err != nil || id.MetaKey() != key {
		return catalog.ID{}, false
	}
	return id, true
}

// Payload is the event of a result: VerifyCompleted or VerifyFailed. runID
// and job are set for a scheduled verification, "" otherwise.
func (r Result) Payload(runID, job string) events.Payload {
	if r.Err != nil {
		return events.VerifyFailed{BackupID: r.ID.String(), Remote: r.ID.Remote, VMUUID: r.ID.VM,
			Deep: r.Deep, Error: r.ErrorText(), RunID: runID, Job: job}
	}
	return events.VerifyCompleted{BackupID: r.ID.String(), Remote: r.ID.Remote, VMUUID: r.ID.VM,
		Deep: r.Deep, SHA256: r.SHA256, Bytes: r.Bytes, DurationMS: r.Duration.Milliseconds(), RunID: runID, Job: job}
}

// EventID derives the id of a result's event: one per backup and run (or
// per backup and verification start for an ad-hoc one), so a retried
// publish is dropped by the stream's duplicate window.
func (r Result) EventID(runOrStart string) string {
	return events.DeriveID("verify", r.ID.String(), runOrStart)
}

// ErrorText is the failure as events carry it (events.Reason; "" when the
// backup passed).
func (r Result) ErrorText() string { return events.Reason(r.Err) }
