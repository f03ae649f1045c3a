package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/integrity"
	"xbr/shared/repo"
)

// API is the query the verify function answers: verify (integrity.QueryVerify).
func API() []fn.APIEndpoint {
	return []fn.APIEndpoint{fn.Answer(integrity.QueryVerify, apiVerify)}
}

func apiVerify(ctx context.Context, env *fn.Env, req integrity.Request) ([]integrity.Report, error) {
	results, unread, err := run(ctx, env, req)
	if err != nil {
		return nil, err
	}
	start := env.Now().UTC().Format(time.RFC3339Nano)
	out := make([]integrity.Report, 0, len(results))
	for _, r := range results {
		out = append(out, r.Report())
		if r.Skipped != "" {
			continue // not verified: no event
		}
		msg, err := env.Subjects.Message(events.Meta{ID: r.EventID(start), Source: events.Source(Name),
			Time: env.Now().UTC()}, r.Payload("", ""))
		if err == nil {
			_, err = env.Conn.Publish(ctx, msg.Subject, msg.Event)
		}
		if err != nil {
			env.Log.Warn("verify result not published", bus.KeyFunction, Name, "backup_id", r.ID.String(), "err", err)
		}
	}
	if unread != nil { // the full backups above were verified; the repository could not be
		out = append(out, integrity.Report{ID: req.Remote + ":" + repo.Root, Error: events.Reason(unread)})
	}
	return out, nil
}

// run verifies what req asks. unread is the error of a remote's repository that could not
// be read, beside the results of its full backups.
func run(ctx context.Context, env *fn.Env, req integrity.Request) (results []integrity.Result, unread, err error) {
	if (req.BackupID == "") == (req.Remote == "") {
		return nil, nil, errors.New("verify request: give either backup_id or remote")
	}
	name, id := req.Remote, catalog.ID{}
	if req.BackupID != "" {
		var err error
		if id, err = catalog.ParseID(req.BackupID); err != nil {
			return nil, nil, err
		}
		name = id.Remote
	}
	rm, err := env.Remotes.Get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	opts := integrity.Options{Deep: req.Deep, Now: env.Now}
	switch {
	case id.Repo:
		return []integrity.Result{integrity.RepoPoint(ctx, repos(env), id, opts)}, nil, nil
	case req.BackupID != "":
		return []integrity.Result{integrity.Backup(ctx, rm, id, opts)}, nil, nil
	}
	if results, err = integrity.All(ctx, rm, opts); err != nil {
		return nil, nil, err
	}
	points, err := integrity.RemotePoints(ctx, repos(env), name, opts)
	if err != nil {
		return results, unreadable(name, err), nil
	}
	return append(results, points...), nil, nil
}

// repos is env's repositories, or none (a nil interface, not a nil pointer).
func repos(env *fn.Env) integrity.Repos {
	if env.Repos == nil {
		return nil
	}
	return env.Repos
}

// unreadable is the failure of remote name's repository, which could not be
// verified: what the scheduled run's reason and the query's report say.
func unreadable(name string, err error) error {
	return fmt.Errorf("the incremental repository on remote %s cannot be verified: %w", name, err)
}
