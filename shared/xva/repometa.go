package xva

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RepoFormat is the Format of RepoRecords: ova.xml text plus per-disk CBT
// bases.
// Format 2 added the source's name and scope (VMName, Job, JobID, Schedule, ScheduleID),
// so an older xbr refuses such records by their format, not by an unknown field;
// RepoFormatV1 records, which have none of them, are still read.
const RepoFormat = "xbr-ova-2"

// RepoFormatV1 is the Format of records written before format 2.
const RepoFormatV1 = "xbr-ova-1"

// MaxRepoRecords caps the encoded RepoRecords a decoder accepts. ova.xml is
// capped at MaxOVASize; the rest is a few hundred bytes per disk.
const MaxRepoRecords = MaxOVASize + 1<<20

// maxRepoDisks caps RepoRecords.Disks: XAPI allows far fewer VBDs per VM.
const maxRepoDisks = 256

// RepoRecords is the records JSON of an incremental restore point's
// manifest (repo.Backup.Commit): the ova.xml of the snapshot the point was
// read from, which restore feeds to Writer.WriteOVA, and for every disk the
// VDIs the next incremental run needs to find its changed-block base.
type RepoRecords struct {
	// Format is RepoFormat.
	Format string `json:"format"`
	// OVAXML is Header.MarshalOVA of the snapshot's ExportSet.
	OVAXML string `json:"ova_xml"`
	// Disks lists the point's disks in Header.Disks order.
	Disks []RepoDisk `json:"disks,omitempty"`
	// VMName is the backed-up VM's own name_label: ova.xml holds the snapshot's, which
	// names the backup ("[XO Backup <job>] <vm>").
	VMName string `json:"vm_name,omitempty"`
	// Job and Schedule name the job and schedule that took the point; JobID and
	// ScheduleID, their ids, scope its retention as a full backup's jobId and
	// scheduleId do. Points written before they were recorded have none of the four.
	Job        string `json:"job,omitempty"`
	JobID      string `json:"job_id,omitempty"`
	Schedule   string `json:"schedule,omitempty"`
	ScheduleID string `json:"schedule_id,omitempty"`
}

// maxRepoName caps RepoRecords' names and ids.
const maxRepoName = 1024

// RepoDisk is one disk of a restore point and where it was read from.
type RepoDisk struct {
	// Name is the disk's export id in OVAXML ("Ref:N"), also the manifest
	// disk's name.
	Name string `json:"name"`
	// SnapshotVDI is the uuid of the snapshot VDI the disk was read from:
	// the changed-block base of the next run while it exists.
	SnapshotVDI string `json:"snapshot_vdi"`
	// SourceVDI is the uuid of the live VDI the snapshot was taken of.
	SourceVDI string `json:"source_vdi"`
	// Userdevice is the VBD's userdevice ("0", "1", …).
	Userdevice string `json:"userdevice"`
	// Path is how the disk was read ("cbt" or "full-scan"; empty: not
	// recorded) and PathReason why it was read whole, for history and a
	// redelivered request that reports the point again.
	Path       string `json:"path,omitempty"`
	PathReason string `json:"path_reason,omitempty"`
}

// pathReasonPattern bounds a recorded reason: a short enum-like word.
var pathReasonPattern = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)

var (
	refIDPattern = regexp.MustCompile(`^Ref:[0-9]{1,9}$`)
	uuidPattern  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// Encode validates r and returns its JSON.
func (r RepoRecords) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// Validate checks the format, that OVAXML parses and lists exactly the
// disks of Disks in the same order, and each disk's fields.
func (r RepoRecords) Validate() error {
	if r.Format != RepoFormat && r.Format != RepoFormatV1 {
		return fmt.Errorf("xva: repository records: format %q, want %q (or %q)", r.Format, RepoFormat, RepoFormatV1)
	}
	for _, f := range []struct{ name, v string }{{"vm_name", r.VMName}, {"job", r.Job}, {"job_id", r.JobID},
		{"schedule", r.Schedule}, {"schedule_id", r.ScheduleID}} {
		if len(f.v) > maxRepoName || !utf8.ValidString(f.v) {
			return fmt.Errorf("xva: repository records: %s: %d bytes, want valid UTF-8 of at most %d", f.name, len(f.v), maxRepoName)
		}
	}
	if (r.JobID == "") != (r.ScheduleID == "") {
		return fmt.Errorf("xva: repository records: job_id %q and schedule_id %q: want both or neither", r.JobID, r.ScheduleID)
	}
	if len(r.Disks) > maxRepoDisks {
		return fmt.Errorf("xva: repository records: %d disks, more than %d", len(r.Disks), maxRepoDisks)
	}
	seen := map[string]bool{}
	for i, d := range r.Disks {
		if err := d.validate(); err != nil {
			return fmt.Errorf("xva: repository records: disks[%d]: %w", i, err)
		}
		if seen[d.Name] {
			return fmt.Errorf("xva: repository records: disks[%d]: name %q given twice", i, d.Name)
		}
		seen[d.Name] = true
	}
	h, err := r.Header()
	if err != nil {
		return err
	}
	refs, err := h.Disks()
	if err != nil {
		return fmt.Errorf("xva: repository records: ova_xml: %w", err)
	}
	if len(refs) != len(r.Disks) {
		return fmt.Errorf("xva: repository records: ova_xml has %d disks, disks lists %d", len(refs), len(r.Disks))
	}
	for i, ref := range refs {
		if ref.ID != r.Disks[i].Name {
			return fmt.Errorf("xva: repository records: disks[%d]: name %q, ova_xml has %q there", i, r.Disks[i].Name, ref.ID)
		}
	}
	return nil
}

// Header parses OVAXML.
func (r RepoRecords) Header() (*Header, error) {
	if r.OVAXML == "" {
		return nil, errors.New("xva: repository records: ova_xml is empty")
	}
	h, err := ParseOVA([]byte(r.OVAXML))
	if err != nil {
		return nil, fmt.Errorf("xva: repository records: ova_xml: %w", err)
	}
	return h, nil
}

func (d RepoDisk) validate() error {
	if !refIDPattern.MatchString(d.Name) {
		return fmt.Errorf("name %q is not an export id Ref:N", d.Name)
	}
	if !uuidPattern.MatchString(d.SnapshotVDI) {
		return fmt.Errorf("snapshot_vdi %q is not a lower-case uuid", d.SnapshotVDI)
	}
	if !uuidPattern.MatchString(d.SourceVDI) {
		return fmt.Errorf("source_vdi %q is not a lower-case uuid", d.SourceVDI)
	}
	if n, err := strconv.Atoi(d.Userdevice); err != nil || n < 0 || n > 255 || strconv.Itoa(n) != d.Userdevice {
		return fmt.Errorf("userdevice %q is not a number 0..255", d.Userdevice)
	}
	switch {
	case d.Path != "" && d.Path != "cbt" && d.Path != "full-scan":
		return fmt.Errorf("path %q is not cbt or full-scan", d.Path)
	case d.PathReason != "" && (d.Path != "full-scan" || !pathReasonPattern.MatchString(d.PathReason)):
		return fmt.Errorf("path_reason %q: only a short word on a full-scan path", d.PathReason)
	}
	return nil
}

// RepoScope is what retention needs of a restore point's records: their format and the ids
// of the job and schedule that took the point.
type RepoScope struct {
	Format     string `json:"format"`
	JobID      string `json:"job_id"`
	ScheduleID string `json:"schedule_id"`
}

// Unscoped reports whether the point was written before points recorded their job and
// schedule (format RepoFormatV1 without ids): it counted in every retention scope then.
func (s RepoScope) Unscoped() bool { return s.JobID == "" }

// DecodeRepoScope reads only the format and the job and schedule ids of a restore point's
// records, ignoring every other field, so that records of a newer format still name their
// scope. It is an error when the records are not a JSON object, name no format of these
// records ("xbr-ova-<n>"), have half a scope or ids over 1024 bytes, or, in a format after
// RepoFormatV1, no scope.
func DecodeRepoScope(data []byte) (RepoScope, error) {
	if len(data) > MaxRepoRecords {
		return RepoScope{}, fmt.Errorf("xva: repository records: %d bytes, more than %d", len(data), MaxRepoRecords)
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return RepoScope{}, errors.New("xva: repository records: not a JSON object")
	}
	var s RepoScope
	if err := json.Unmarshal(data, &s); err != nil {
		return RepoScope{}, fmt.Errorf("xva: repository records: %w", err)
	}
	switch {
	case !strings.HasPrefix(s.Format, "xbr-ova-") || len(s.Format) > 32:
		return RepoScope{}, fmt.Errorf("xva: repository records: format %.40q is not xbr-ova-<n>", s.Format)
	case len(s.JobID) > maxRepoName || len(s.ScheduleID) > maxRepoName:
		return RepoScope{}, fmt.Errorf("xva: repository records: job_id or schedule_id longer than %d bytes", maxRepoName)
	case (s.JobID == "") != (s.ScheduleID == ""):
		return RepoScope{}, fmt.Errorf("xva: repository records: job_id %q and schedule_id %q: want both or neither", s.JobID, s.ScheduleID)
	case s.JobID == "" && s.Format != RepoFormatV1:
		return RepoScope{}, fmt.Errorf("xva: repository records: format %q without job_id and schedule_id", s.Format)
	}
	return s, nil
}

// DecodeRepoRecords reads the records JSON of a restore point strictly:
// unknown fields, trailing data, a size over MaxRepoRecords or an invalid
// record (see Validate) are refused.
func DecodeRepoRecords(data []byte) (RepoRecords, error) {
	if len(data) > MaxRepoRecords {
		return RepoRecords{}, fmt.Errorf("xva: repository records: %d bytes, more than %d", len(data), MaxRepoRecords)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r RepoRecords
	if err := dec.Decode(&r); err != nil {
		return RepoRecords{}, fmt.Errorf("xva: repository records: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return RepoRecords{}, errors.New("xva: repository records: data after the object")
	}
	return r, r.Validate()
}
