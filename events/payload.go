package events

// Payload is the data of one event type. Every payload struct of this
// package implements it with value receivers; a decoded event carries the
// value (not a pointer) in Received.Payload.
type Payload interface {
	// EventType is the CloudEvent type this payload belongs to.
	EventType() Type
	// SubjectKeys are the subject tokens after <prefix>.<domain>.<verb>
	// (e.g. job and VM uuid). Subjects.Of sanitises them.
	SubjectKeys() []string
	// Validate reports every invalid field as a *FieldError (errors.Join).
	Validate() error
}

// scoped payloads belong to a run and/or a job; New copies those into the
// xbrrun and xbrjob extension attributes.
type scoped interface {
	scope() (run, job string)
}

// newPayload returns a pointer to a zero payload of type t.
func newPayload(t Type) (Payload, bool) {
	switch t {
	case TypeScheduleDue:
		return &ScheduleDue{}, true
	case TypeRunStarted:
		return &RunStarted{}, true
	case TypeRunCompleted:
		return &RunCompleted{}, true
	case TypeExportRequested:
		return &ExportRequested{}, true
	case TypeExportStarted:
		return &ExportStarted{}, true
	case TypeExportProgress:
		return &ExportProgress{}, true
	case TypeExportCompleted:
		return &ExportCompleted{}, true
	case TypeExportFailed:
		return &ExportFailed{}, true
	case TypeSnapshotRequested:
		return &SnapshotRequested{}, true
	case TypeSnapshotCompleted:
		return &SnapshotCompleted{}, true
	case TypeSnapshotFailed:
		return &SnapshotFailed{}, true
	case TypePruneCompleted:
		return &PruneCompleted{}, true
	case TypePruneFailed:
		return &PruneFailed{}, true
	}
	return newPayload2(t)
}

func newPayload2(t Type) (Payload, bool) {
	switch t {
	case TypeRestoreRequested:
		return &RestoreRequested{}, true
	case TypeRestoreStarted:
		return &RestoreStarted{}, true
	case TypeRestoreProgress:
		return &RestoreProgress{}, true
	case TypeRestoreCompleted:
		return &RestoreCompleted{}, true
	case TypeRestoreFailed:
		return &RestoreFailed{}, true
	case TypeIncrementalRequested:
		return &IncrementalRequested{}, true
	case TypeIncrementalStarted:
		return &IncrementalStarted{}, true
	case TypeIncrementalProgress:
		return &IncrementalProgress{}, true
	case TypeIncrementalCompleted:
		return &IncrementalCompleted{}, true
	case TypeIncrementalFailed:
		return &IncrementalFailed{}, true
	case TypeReplicateRequested:
		return &ReplicateRequested{}, true
	case TypeReplicateStarted:
		return &ReplicateStarted{}, true
	case TypeReplicateProgress:
		return &ReplicateProgress{}, true
	case TypeReplicateCompleted:
		return &ReplicateCompleted{}, true
	case TypeReplicateFailed:
		return &ReplicateFailed{}, true
	case TypeVerifyCompleted:
		return &VerifyCompleted{}, true
	case TypeVerifyFailed:
		return &VerifyFailed{}, true
	case TypeFailoverRequested:
		return &FailoverRequested{}, true
	case TypeFailoverCompleted:
		return &FailoverCompleted{}, true
	case TypeFailoverFailed:
		return &FailoverFailed{}, true
	case TypeGCCompleted:
		return &GCCompleted{}, true
	case TypeGCFailed:
		return &GCFailed{}, true
	case TypeMirrorRequested:
		return &MirrorRequested{}, true
	case TypeMirrorCompleted:
		return &MirrorCompleted{}, true
	case TypeMirrorFailed:
		return &MirrorFailed{}, true
	case TypeMetadataCompleted:
		return &MetadataCompleted{}, true
	case TypeMetadataFailed:
		return &MetadataFailed{}, true
	}
	return newPayload3(t)
}

func newPayload3(t Type) (Payload, bool) {
	switch t {
	case TypeRemoteUsage:
		return &RemoteUsage{}, true
	case TypeHealthCheckRequested:
		return &HealthCheckRequested{}, true
	case TypeHealthCheckStarted:
		return &HealthCheckStarted{}, true
	case TypeHealthCheckCompleted:
		return &HealthCheckCompleted{}, true
	case TypeHealthCheckFailed:
		return &HealthCheckFailed{}, true
	}
	return nil, false
}

// NewPayload returns a pointer to a zero payload of type t, for decoding;
// false when t is not a type of the contract.
func NewPayload(t Type) (Payload, bool) { return newPayload(t) }
