package metadata_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/metadata"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/remote"
)

// someDown opens the remotes it holds; any other name is unreachable.
type someDown map[string]remote.Remote

func (r someDown) Get(_ context.Context, name string) (remote.Remote, error) {
	if rm, ok := r[name]; ok {
		return rm, nil
	}
	return nil, errors.New("remote " + name + " is unreachable")
}

// One unreachable remote of a job must fail the pool on that remote only
// (the package doc: "one failed remote fails that pool on that remote
// only"); the healthy remote must still get its backup.
func TestOneUnreachableRemoteFailsOnlyItself(t *testing.T) {
	nfs := newDir(t, "nfs")
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"down", "nfs"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	at := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: someDown{"nfs": nfs},
		Now: func() time.Time { return at }}
	p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
		Mode: config.ModeMetadata, FireTime: at}
	outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
	must(t, err)
	o := decode(t, outs)
	backups, _, err := catalog.ListPoolMeta(context.Background(), nfs)
	must(t, err)
	if len(o[events.TypeMetadataCompleted]) != 1 || len(backups) != 1 {
		var why []string
		for _, f := range o[events.TypeMetadataFailed] {
			mf, _ := events.PayloadAs[events.MetadataFailed](f)
			why = append(why, mf.Remote+": "+mf.Error)
		}
		t.Fatalf("remote down unreachable: %d completed, %d backups on nfs, failed %q; want nfs backed up",
			len(o[events.TypeMetadataCompleted]), len(backups), why)
	}
}

// A redelivered fire (the first delivery committed, then xbr died before
// the ack) that fails while committing must not delete the backup the
// first delivery committed in the same folder.
func TestRedeliveryFailureKeepsCommittedBackup(t *testing.T) {
	nfs := newDir(t, "nfs")
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"nfs"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	at := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	calls := 0
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"nfs": nfs},
		Now: func() time.Time { return at },
		State: func(_ context.Context, w io.Writer) error {
			calls++
			if calls > 1 {
				return errors.New("nats: timeout") // a transient failure on the redelivery
			}
			_, err := io.WriteString(w, "{}\n")
			return err
		}}
	p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
		Mode: config.ModeMetadata, FireTime: at}
	ev := bus.Event{Received: events.Received{Payload: p}}
	outs, err := h.Handle(context.Background(), ev)
	must(t, err)
	if o := decode(t, outs); len(o[events.TypeMetadataCompleted]) != 1 {
		t.Fatalf("first delivery: %d completed", len(o[events.TypeMetadataCompleted]))
	}
	_, err = h.Handle(context.Background(), ev) // redelivered
	must(t, err)
	backups, _, err := catalog.ListPoolMeta(context.Background(), nfs)
	must(t, err)
	if len(backups) != 1 {
		t.Fatalf("after a failed redelivery: %d backups on nfs, want the 1 the first delivery committed", len(backups))
	}
}

// A SIGKILL between the data's commit and metadata.json's leaves a <ts>
// folder with a whole dump and no metadata.json. Retention must remove it
// once it is beyond the schedule's retention, as Xen Orchestra's
// deleteOldMetadataBackups (which counts every <ts> folder) does;
// otherwise each crash leaves a pool dump on the remote forever.
func TestRetentionRemovesUncommittedFolder(t *testing.T) {
	nfs := newDir(t, "nfs")
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"nfs"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 1, Enabled: true}}}}}
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	now := t0
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"nfs": nfs},
		Now: func() time.Time { return now }}
	fire := func(at time.Time) {
		now = at
		p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
			Mode: config.ModeMetadata, FireTime: at}
		_, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
		must(t, err)
	}
	fire(t0)
	backups, _, err := catalog.ListPoolMeta(context.Background(), nfs)
	must(t, err)
	id, err := catalog.ParsePoolMetaID(backups[0].ID)
	must(t, err)
	// What a SIGKILL after the data's commit leaves: the marker never written.
	must(t, nfs.Delete(context.Background(), id.Key(catalog.PoolMetaMarker)))
	for i := 1; i <= 3; i++ {
		fire(t0.Add(time.Duration(i) * time.Hour))
	}
	left, err := nfs.List(context.Background(), id.Dir()+"/")
	must(t, err)
	if len(left) != 0 {
		keys := []string{}
		for _, in := range left {
			keys = append(keys, in.Key)
		}
		t.Fatalf("3 fires later (retention 1), the uncommitted folder of %s still holds %q", id.Time, keys)
	}
}
