package fn

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
)

// Function is one of xbr's functions as `xbr serve` runs it.
type Function struct {
	// Name is the function's name (timer, export, snapshot, prune, restore,
	// gateway): the --functions value, the durable consumer and the DLQ key.
	Name string
	// Run does the function's work until ctx is cancelled.
	Run func(ctx context.Context, env *Env) error
	// API are the queries this function's package answers for client
	// commands, on the function's own connection (its identity) in every
	// process that runs it; every function also answers the common ones.
	API []APIEndpoint
}

// Env is what every function gets.
type Env struct {
	Config   *config.Config
	Conn     *bus.Conn
	Subjects events.Subjects
	Streams  events.StreamNames
	Log      *slog.Logger
	Now      func() time.Time
	Pools    *Pools
	Remotes  *Remotes
	// Repos are the remotes' incremental repositories (xbr-repo/).
	Repos *Repos
	// NATSURL is the URL of the backbone (the embedded server's when embedded).
	NATSURL string
	// HTTPListen is where the gateway serves the web page and APIs.
	HTTPListen string
	// Version is xbr's version, recorded in backup metadata.
	Version string
	// API holds the queries ServeAPI answers besides the common ones.
	API []APIEndpoint
}

// Topology is the stream layout of the Env's backbone.
func (e *Env) Topology() bus.Topology {
	return bus.Topology{
		Subjects:         e.Subjects,
		Streams:          e.Streams,
		EventsMaxAge:     e.Config.NATS.EventsMaxAge,
		DuplicateWindow:  e.Config.NATS.DuplicateWindow,
		Replicas:         e.Config.NATS.StreamReplicas,
		EventsMaxBytes:   int64(e.Config.NATS.EventsMaxBytes),
		ProgressMaxBytes: int64(e.Config.NATS.ProgressMaxBytes),
		DLQMaxBytes:      int64(e.Config.NATS.DLQMaxBytes),
	}
}

// Source is the CloudEvents source of function name.
func (e *Env) Source(name string) string { return events.Source(name) }

// Job returns the job called name.
func (e *Env) Job(name string) (config.Job, bool) { return e.Config.Job(name) }

// Select returns the functions named in list ("" or "all" = every function),
// or an error naming an unknown one.
func Select(all []Function, list string) ([]Function, error) {
	if list == "" || list == "all" {
		return all, nil
	}
	byName := map[string]Function{}
	var names []string
	for _, f := range all {
		byName[f.Name] = f
		names = append(names, f.Name)
	}
	sort.Strings(names)
	var out []Function
	seen := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		f, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("--functions: unknown function %q (known: %s)", n, strings.Join(names, ", "))
		}
		if !seen[n] {
			out = append(out, f)
			seen[n] = true
		}
	}
	return out, nil
}
