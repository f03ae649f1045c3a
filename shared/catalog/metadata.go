package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// XO's constant field values for a full backup.
const (
	ModeFull        = "full"
	MetadataVersion = "2.0.0"
)

// modeDelta is the mode of Xen Orchestra's incremental backups (VHDs under vdis/).
const modeDelta = "delta"

// MaxMetadataSize bounds a .json read from a remote. XO's metadata holds two XAPI VM records;
// a few hundred KiB is already very large.
const MaxMetadataSize = 16 << 20

// ErrInvalidMetadata is wrapped by every ParseMetadata and Validate error.
var ErrInvalidMetadata = errors.New("invalid backup metadata")

// Metadata is the content of <ts>.json: Xen Orchestra's fields, in its names, plus xbr's own
// object that XO ignores.
type Metadata struct {
	JobID      string `json:"jobId"`
	Mode       string `json:"mode"` // "full"
	ScheduleID string `json:"scheduleId"`
	// Timestamp is the backup's start in milliseconds since the epoch; its second is the
	// file name.
	Timestamp int64  `json:"timestamp"`
	Version   string `json:"version"` // "2.0.0"
	// VM and VMSnapshot are the full XAPI records of the source VM and of the exported
	// snapshot, kept as raw JSON objects so they round-trip untouched.
	VM         json.RawMessage `json:"vm"`
	VMSnapshot json.RawMessage `json:"vmSnapshot"`
	XVA        string          `json:"xva"`  // "./<ts>.xva"
	Size       int64           `json:"size"` // bytes of the .xva as stored
	// Tags are XO's long-term retention tags ("daily=2025-01-12"); always written, [] when
	// none, as XO writes it.
	Tags []string `json:"tags"`
	Xbr  *Xbr     `json:"xbr,omitempty"`
}

// Xbr is what xbr adds to XO's metadata. Absent in backups written by Xen Orchestra.
type Xbr struct {
	Version        string `json:"version"`            // xbr version that wrote the backup
	SHA256         string `json:"sha256"`             // lowercase hex of the .xva bytes as stored
	Codec          string `json:"codec"`              // "gzip", "zstd" or "none"
	RunID          string `json:"run_id"`             // the run that wrote it
	Pool           string `json:"pool"`               // pool name from the configuration
	Job            string `json:"job"`                // job name
	Schedule       string `json:"schedule"`           // schedule name
	RawSize        int64  `json:"raw_size,omitempty"` // bytes of the uncompressed XVA
	DurationMS     int64  `json:"duration_ms"`        // export start to commit
	BytesPerSecond int64  `json:"bytes_per_second"`   // stored bytes per second
}

// ParseMetadata decodes and validates a .json of at most MaxMetadataSize bytes. Unknown
// fields are ignored (XO adds fields over its versions).
func ParseMetadata(r io.Reader) (Metadata, error) {
	m, _, err := parseMetadata(r)
	return m, err
}

// parseMetadata also returns the source VM's uuid and name, decoded once.
func parseMetadata(r io.Reader) (Metadata, vmIdent, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMetadataSize+1))
	if err != nil {
		return Metadata{}, vmIdent{}, fmt.Errorf("read backup metadata: %w", err)
	}
	if len(data) > MaxMetadataSize {
		return Metadata{}, vmIdent{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidMetadata, MaxMetadataSize)
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return Metadata{}, vmIdent{}, fmt.Errorf("%w: %w", ErrInvalidMetadata, describeJSONError(err))
	}
	vm, err := m.validate()
	if err != nil {
		return Metadata{}, vmIdent{}, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	return m, vm, nil
}

// vmIdent is the part of an XAPI VM record that a listing shows.
type vmIdent struct {
	UUID string `json:"uuid"`
	Name string `json:"name_label"`
}

// ident decodes the uuid and name of a record in one pass; a record that is not an object,
// or fields that are not strings, give empty values.
func ident(raw json.RawMessage) vmIdent {
	var id vmIdent
	if json.Unmarshal(raw, &id) != nil {
		return vmIdent{}
	}
	return id
}

// describeJSONError names the field of a type error.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("field %s: %s value where %s is expected", te.Field, te.Value, te.Type)
	}
	return err
}

// Validate checks the fields XO and xbr rely on; the error names the field and its value.
func (m Metadata) Validate() error {
	if _, err := m.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	return nil
}

func (m Metadata) validate() (vmIdent, error) {
	if err := m.validateFields(); err != nil {
		return vmIdent{}, err
	}
	if err := validateRecord("vm", m.VM); err != nil {
		return vmIdent{}, err
	}
	if err := validateRecord("vmSnapshot", m.VMSnapshot); err != nil {
		return vmIdent{}, err
	}
	vm := ident(m.VM)
	if err := ValidateVMUUID(vm.UUID); err != nil {
		return vmIdent{}, fmt.Errorf("vm.uuid: %w", err)
	}
	if m.Xbr != nil {
		if err := m.Xbr.validate(); err != nil {
			return vmIdent{}, err
		}
	}
	return vm, nil
}

func (m Metadata) validateFields() error {
	switch {
	case m.Mode == modeDelta:
		return fmt.Errorf("%w (mode %q)", ErrXODelta, m.Mode)
	case m.Mode != ModeFull:
		return fmt.Errorf("mode %.40q: only %q backups are supported", m.Mode, ModeFull)
	case m.JobID == "":
		return errors.New("jobId: is required")
	case m.ScheduleID == "":
		return errors.New("scheduleId: is required")
	case m.Version == "":
		return errors.New("version: is required")
	case m.Timestamp <= 0:
		return fmt.Errorf("timestamp %d: want milliseconds since the epoch", m.Timestamp)
	case m.Size < 0:
		return fmt.Errorf("size %d: must not be negative", m.Size)
	}
	if want := "./" + m.Basename() + DataSuffix; m.XVA != want {
		return fmt.Errorf("xva %.80q: want %q (the timestamp's file)", m.XVA, want)
	}
	return nil
}

func validateRecord(field string, raw json.RawMessage) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("%s: want the XAPI record as a JSON object, got %.40q", field, trimmed)
	}
	return nil
}

// Time is the backup's timestamp.
func (m Metadata) Time() time.Time { return time.UnixMilli(m.Timestamp).UTC() }

// Basename is the file name of the backup without suffix: the timestamp, "20231012T101112Z".
func (m Metadata) Basename() string { return FormatTimestamp(m.Time()) }

// VMUUID is the source VM's uuid (vm.uuid), or "" when absent.
func (m Metadata) VMUUID() string { return ident(m.VM).UUID }

// VMName is the source VM's name (vm.name_label), or "" when absent.
func (m Metadata) VMName() string { return ident(m.VM).Name }

// SnapshotUUID is the exported snapshot's uuid (vmSnapshot.uuid), or "" when absent.
func (m Metadata) SnapshotUUID() string { return ident(m.VMSnapshot).UUID }

// Marshal encodes m as indented JSON with a trailing newline, ready to be written.
func (m Metadata) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode backup metadata: %w", err)
	}
	return append(b, '\n'), nil
}
