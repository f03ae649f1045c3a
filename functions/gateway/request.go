package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/restoreclient"
)

// MaxBodySize bounds the body of every POST the gateway reads.
const MaxBodySize = 64 << 10

// Latest selects a VM's newest backup.
const Latest = restoreclient.LatestBackup

// RestoreRequest is the JSON body of POST /v1/restores: either BackupID, or
// VM (a uuid or a name) with Backup ("latest", the default, or the time the
// backup was taken, to the second).
type RestoreRequest struct {
	BackupID string `json:"backup_id,omitempty"`
	VM       string `json:"vm,omitempty"`
	Backup   string `json:"backup,omitempty"`
	Remote   string `json:"remote,omitempty"` // with VM: look on this remote only
	Pool     string `json:"pool,omitempty"`   // "" = the only configured pool
	SR       string `json:"sr,omitempty"`     // uuid or name; "" = the pool's default SR
	Start    bool   `json:"start,omitempty"`
	Name     string `json:"name,omitempty"` // "" = "<vm name> (<backup time>)"

	// ID is BackupID parsed; At is Backup parsed (zero for latest).
	ID catalog.ID `json:"-"`
	At time.Time  `json:"-"`
}

// FieldError is a request value the gateway refuses: 400, or 404 when the
// value is well-formed but names nothing that exists.
type FieldError struct {
	Field   string
	Value   string
	Problem string
	// NotFound: the value is valid but names no backup, VM, remote or pool.
	NotFound bool
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Problem
	}
	return fmt.Sprintf("%s %.80q: %s", e.Field, e.Value, e.Problem)
}

func badField(field, value, problem string) *FieldError {
	return &FieldError{Field: field, Value: value, Problem: problem}
}

func missing(field, value, problem string) *FieldError {
	return &FieldError{Field: field, Value: value, Problem: problem, NotFound: true}
}

// ParseRestoreRequest decodes and validates a webhook body. Unknown fields,
// trailing data and values of the wrong type are refused; every error is a
// *FieldError naming the field ("body" for the document itself).
func ParseRestoreRequest(body []byte) (RestoreRequest, error) {
	var req RestoreRequest
	if err := decodeStrict(body, &req); err != nil {
		return RestoreRequest{}, err
	}
	if err := req.validate(); err != nil {
		return RestoreRequest{}, err
	}
	return req, nil
}

func decodeStrict(body []byte, v any) error {
	if first := bytes.TrimLeft(body, " \t\r\n"); len(first) == 0 || first[0] != '{' {
		return badField("body", "", "want a JSON object")
	}
	err := events.DecodeStrict(body, v)
	var je *events.JSONError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &je) && je.Field != "":
		return badField(je.Field, "", je.Problem)
	case errors.As(err, &je):
		return badField("body", "", je.Problem)
	}
	return badField("body", "", err.Error())
}

func (r *RestoreRequest) validate() error {
	if r.BackupID != "" {
		if r.VM != "" || r.Backup != "" || r.Remote != "" {
			return badField("backup_id", r.BackupID, "give either backup_id or vm (with backup and remote), not both")
		}
		id, err := catalog.ParseID(r.BackupID)
		if err != nil {
			return badField("backup_id", r.BackupID, idProblem(err))
		}
		r.ID = id
	} else if err := r.validateSelector(); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"pool", r.Pool}, {"sr", r.SR}, {"name", r.Name}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

func (r *RestoreRequest) validateSelector() error {
	if r.VM == "" {
		return badField("backup_id", "", "is required (or vm with backup)")
	}
	if err := checkText("vm", r.VM); err != nil {
		return err
	}
	if r.Remote != "" {
		if err := catalog.ValidateRemoteName(r.Remote); err != nil {
			return badField("remote", r.Remote, err.Error())
		}
	}
	if r.Backup == "" {
		r.Backup = Latest
	}
	at, err := ParseBackupTime(r.Backup)
	if err != nil {
		return badField("backup", r.Backup, err.Error())
	}
	r.At = at
	return nil
}

// ParseBackupTime reads "latest" (zero time), XO's YYYYMMDDTHHMMSSZ or RFC
// 3339 (restoreclient.ParseBackupTime).
func ParseBackupTime(s string) (time.Time, error) { return restoreclient.ParseBackupTime(s) }

// checkText accepts optional printable single-line text of at most 256 bytes.
func checkText(field, v string) error {
	if len(v) > 256 {
		return badField(field, v, "is longer than 256 bytes")
	}
	for _, r := range v {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return badField(field, v, "contains a control character or invalid UTF-8")
		}
	}
	return nil
}

// idProblem is the reason of a catalog.ParseID error without the quoted id,
// which the FieldError quotes itself.
func idProblem(err error) string {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := u.Unwrap(); len(errs) == 2 {
			return "invalid backup id: " + errs[1].Error()
		}
	}
	return err.Error()
}
