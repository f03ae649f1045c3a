package restoreclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/xapi"
)

// QueryAccept is the restore acceptance query: the Params a client means to
// publish, the Accepted request it should publish instead (or the error that
// refuses it). The CLI asks it before publishing; the gateway calls Accept
// itself.
var QueryAccept = events.NewQuery[Params, Accepted](events.QueryNameRestoreAccept)

// Pools hands out logged-in XAPI clients of the configured pools; *fn.Pools
// is one.
type Pools interface {
	Names() []string
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Target is what a restore request is checked against: the configured
// pools, remotes and the remotes' incremental repositories (nil: none).
type Target struct {
	Pools   Pools
	Remotes Remotes
	Repos   Repos
}

// Accepted is a restore request that passed Accept, ready to publish, and
// what its requester should be told.
type Accepted struct {
	Request events.RestoreRequested `json:"request"`
	// Warnings are things the requester did not ask for but gets, such as
	// a new VM name because the asked one was taken.
	Warnings []string `json:"warnings,omitempty"`
}

// NotFoundError is a well-formed request value that names nothing that
// exists (a remote, a backup, a pool, an SR).
type NotFoundError struct{ Field, Value, Problem string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem) }

// ChoiceError is a request value that exists but cannot be used as given
// (an SR name several SRs share, an SR that cannot hold disks).
type ChoiceError struct{ Field, Value, Problem string }

func (e *ChoiceError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem) }

// Accept is the one acceptance point of a restore: every front end runs it
// before a request is published. It checks p (NewRequest), that the backup
// exists on a configured remote, that the pool is configured and the SR
// resolves on it (the request then names the SR by uuid), and that the new
// VM's name is free in the pool: when another VM has it, the request names
// the new VM "<name> (2)" (or the next free number) and a warning says so.
// The request id is derived from p as given, so a retried request keeps its
// id; the VM an earlier delivery of that request restored does not count as
// another VM.
func Accept(ctx context.Context, t Target, p Params, now time.Time) (Accepted, error) {
	req, err := NewRequest(p, now)
	if err != nil {
		return Accepted{}, err
	}
	id, _ := catalog.ParseID(p.BackupID) // checked by NewRequest
	b, err := Backup(ctx, t.Remotes, t.Repos, "backup_id", id)
	if err != nil {
		return Accepted{}, err
	}
	c, err := poolClient(ctx, t.Pools, p.Pool)
	if err != nil {
		return Accepted{}, err
	}
	if p.SR != "" {
		if req.SR, err = ResolveSR(ctx, c, p.Pool, p.SR); err != nil {
			return Accepted{}, err
		}
	}
	want := cmp.Or(p.Name, DefaultVMName(b.VMName, b.VMUUID, catalog.FormatTimestamp(b.Timestamp)))
	name, other, err := FreeName(ctx, c, want, req.RequestID, "")
	if err != nil {
		return Accepted{}, fmt.Errorf("pool %s: %w", p.Pool, err)
	}
	a := Accepted{Request: req}
	if name != want {
		a.Request.Name = name
		if err := a.Request.Validate(); err != nil { // the suffix may make it too long
			return Accepted{}, &ChoiceError{Field: "name", Value: want, Problem: fmt.Sprintf(
				"VM %s in pool %s already has this name, and the new VM cannot take a numbered one (%v): choose another name",
				other, p.Pool, err)}
		}
		a.Warnings = append(a.Warnings, fmt.Sprintf("VM %s in pool %s is already named %q: the new VM is named %q",
			other, p.Pool, want, name))
	}
	return a, nil
}

// Backup reads the listed form of backup id (a full backup or a restore
// point); a remote that is not configured or a backup that does not exist
// is a *NotFoundError on field.
func Backup(ctx context.Context, rs Remotes, repos Repos, field string, id catalog.ID) (catalog.Backup, error) {
	if !slices.Contains(rs.Names(), id.Remote) {
		return catalog.Backup{}, &NotFoundError{Field: field, Value: id.String(),
			Problem: fmt.Sprintf("remote %q is not configured (known: %s)", id.Remote, strings.Join(rs.Names(), ", "))}
	}
	var b catalog.Backup
	err := func() error {
		if id.Repo {
			var err error
			b, err = Point(ctx, repos, id)
			return err
		}
		rm, err := rs.Get(ctx, id.Remote)
		if err != nil {
			return err
		}
		m, err := catalog.ReadMetadata(ctx, rm, id)
		b = catalog.BackupOf(id, m)
		return err
	}()
	if errors.Is(err, remote.ErrNotFound) {
		return catalog.Backup{}, &NotFoundError{Field: field, Value: id.String(), Problem: "no such backup"}
	}
	if err != nil {
		return catalog.Backup{}, fmt.Errorf("read backup %s: %w", id, err)
	}
	return b, nil
}

func poolClient(ctx context.Context, pools Pools, pool string) (*xapi.Client, error) {
	if !slices.Contains(pools.Names(), pool) {
		return nil, &NotFoundError{Field: "pool", Value: pool,
			Problem: "is not configured (known: " + strings.Join(pools.Names(), ", ") + ")"}
	}
	return pools.Client(ctx, pool)
}

// ResolveSR turns an SR uuid or unique name of pool into its uuid
// (xapi.ResolveSR): an unknown SR is a *NotFoundError, an unusable one a
// *ChoiceError.
func ResolveSR(ctx context.Context, c xapi.SRSource, pool, sr string) (string, error) {
	_, rec, err := xapi.ResolveSR(ctx, c, sr)
	var choice *xapi.SRChoiceError
	switch {
	case errors.Is(err, xapi.ErrNoSuchSR):
		return "", &NotFoundError{Field: "sr", Value: sr, Problem: "is not an SR of pool " + pool}
	case errors.As(err, &choice):
		return "", &ChoiceError{Field: "sr", Value: sr, Problem: choice.Problem()}
	case err != nil:
		return "", fmt.Errorf("pool %s: %w", pool, err)
	}
	return rec.UUID, nil
}

// PublishAccepted publishes the xbr.restore.requested of a, as Publish does.
func PublishAccepted(ctx context.Context, pub Publisher, s events.Subjects, source string, a Accepted, now time.Time) error {
	msg, err := Message(s, a.Request, source, now)
	if err != nil {
		return err
	}
	if _, err := pub.Publish(ctx, msg.Subject, msg.Event); err != nil {
		return fmt.Errorf("publish restore request %s: %w", a.Request.RequestID, err)
	}
	return nil
}
