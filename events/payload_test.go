package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

func TestExamplesCoverEveryTypeAndValidate(t *testing.T) {
	ex := examples()
	types := events.Types()
	if len(ex) != len(types) {
		t.Fatalf("%d examples for %d types", len(ex), len(types))
	}
	for i, p := range ex {
		if p.EventType() != types[i] {
			t.Errorf("example %d is %s, want %s", i, p.EventType(), types[i])
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s example: %v", p.EventType(), err)
		}
		if !p.EventType().Known() || p.EventType().Description() == "" {
			t.Errorf("%s: not known or no description", p.EventType())
		}
		ptr, ok := events.NewPayload(p.EventType())
		if !ok || ptr.EventType() != p.EventType() {
			t.Errorf("NewPayload(%s) = %T, %v", p.EventType(), ptr, ok)
		}
	}
	if events.Type("xbr.nope.done").Known() {
		t.Error("unknown type reported known")
	}
}

func TestValidateNamesFieldAndValue(t *testing.T) {
	ex := examples()
	exportReq := ex[3].(events.ExportRequested)
	tests := []struct {
		name    string
		payload events.Payload
		want    string
	}{
		{"bad uuid", with(exportReq, func(p *events.ExportRequested) { p.VMUUID = "zz" }),
			`export.requested: vm_uuid: "zz" is not a UUID`},
		{"missing job", with(exportReq, func(p *events.ExportRequested) { p.Job = "" }),
			`export.requested: job: is required`},
		{"bad codec", with(exportReq, func(p *events.ExportRequested) { p.Codec = "lz4" }),
			`export.requested: codec: "lz4" is not one of gzip, zstd, none`},
		{"no remotes", with(exportReq, func(p *events.ExportRequested) { p.Remotes = nil }),
			`export.requested: remotes: needs at least one entry`},
		{"bad run id", with(exportReq, func(p *events.ExportRequested) { p.RunID = "a b" }),
			`export.requested: run_id: "a b" is not an id`},
		{"control char", with(exportReq, func(p *events.ExportRequested) { p.Remotes = []string{"nfs\n"} }),
			`export.requested: remotes[0]: "nfs\n" contains a control character`},
		{"zero fire time", with(exportReq, func(p *events.ExportRequested) { p.FireTime = time.Time{} }),
			`export.requested: fire_time: is required`},
		{"bad sha", events.VerifyCompleted{BackupID: exBackup, Remote: "nfs", VMUUID: exVM, SHA256: "ABC"},
			`verify.completed: sha256: "ABC" is not a lower-case hex SHA-256`},
		{"escaping backup id", events.RestoreRequested{RequestID: "r1", BackupID: "nfs/../../etc/passwd", Pool: "lab"},
			`restore.requested: backup_id: "nfs/../../etc/passwd" is not a backup id`},
		{"absolute backup id", events.RestoreRequested{RequestID: "r1", BackupID: "/etc/passwd", Pool: "lab"},
			`restore.requested: backup_id: "/etc/passwd" is not a backup id`},
		{"negative bytes", events.RestoreProgress{RequestID: "r1", Transfer: events.Transfer{Bytes: -1}},
			`restore.progress: bytes: -1 is negative`},
		{"skipped needs reason", events.RunCompleted{RunID: "r", Job: "j", Schedule: "s", Status: events.StatusSkipped},
			`run.completed: reason: is required when status is skipped`},
		{"nested", events.RunStarted{RunID: "r", Job: "j", Schedule: "s", Mode: "full", FireTime: exFire,
			VMs: []events.RunVM{{VMUUID: "x", Pool: "lab"}}}, `run.started: vms[0].vm_uuid: "x" is not a UUID`},
		{"bad timestamp", events.SnapshotCompleted{RunID: "r", Job: "j", Schedule: "s", VMUUID: exVM, Pool: "p",
			SnapshotUUID: exSnap, Timestamp: "2026-11-29"}, `snapshot.completed: timestamp: "2026-11-29" is not a YYYYMMDDTHHMMSSZ timestamp`},
		{"backups prune needs remote", events.PruneFailed{RunID: "r", Job: "j", Schedule: "s", VMUUID: exVM,
			Kind: events.PruneBackups, Error: "x"}, `prune.failed: remote: is required`},
		{"bad mode", events.ScheduleDue{RunID: "r", Job: "j", Schedule: "s", Mode: "Full mode", FireTime: exFire},
			`schedule.due: mode: "Full mode" is not a mode (1-32 of a-z 0-9 -)`},
		{"replicate request without fire time", events.ReplicateRequested{RunID: "r", Job: "dr", Schedule: "s",
			VMUUID: exVM, Pool: "lab", TargetPool: "standby", TargetSR: "sr"}, `replicate.requested: fire_time: is required`},
		{"empty error", events.RestoreFailed{RequestID: "r", BackupID: exBackup, Error: "  "},
			`restore.failed: error: is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.payload.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
			var fe *events.FieldError
			if !errors.As(err, &fe) || fe.Type != tt.payload.EventType() {
				t.Fatalf("error %v is not a FieldError of %s", err, tt.payload.EventType())
			}
		})
	}
}

func TestValidateReportsEveryBadField(t *testing.T) {
	err := events.ExportRequested{VMUUID: "zz", Codec: "lz4"}.Validate()
	for _, f := range []string{"run_id", "job", "schedule", "fire_time", "vm_uuid", "pool", "remotes", "codec"} {
		if err == nil || !strings.Contains(err.Error(), " "+f+": ") {
			t.Errorf("error %v does not name %s", err, f)
		}
	}
}

func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}
