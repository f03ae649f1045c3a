package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"xbr/events"
)

type inner struct {
	UUID string `json:"uuid"`
}

type Embedded struct {
	Note string `json:"note,omitempty"`
}

type strictDoc struct {
	Embedded
	BackupID string            `json:"backup_id"`
	Start    bool              `json:"start,omitempty"`
	Disks    []inner           `json:"disks,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	Raw      json.RawMessage   `json:"raw,omitempty"`
	Plain    int
	Skipped  string `json:"-"`
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		doc, field, problem string // field "" and problem "": valid
	}{
		{`{"backup_id":"a","start":true,"disks":[{"uuid":"u"}],"tags":{"A":"b"},"raw":{"X":1},"Plain":2,"note":"n"}`, "", ""},
		{`{"BACKUP_ID":"a"}`, "BACKUP_ID", `did you mean "backup_id"`},
		{`{"Backup_Id":"a"}`, "Backup_Id", "case-sensitive"},
		{`{"backup_id":"a","backup_id":"b"}`, "backup_id", "duplicate key"},
		{`{"disks":[{"uuid":"a","UUID":"b"}]}`, "disks.0.UUID", "case-sensitive"},
		{`{"disks":[{"uuid":"a","uuid":"b"}]}`, "disks.0.uuid", "duplicate key"},
		{`{"tags":{"a":"1","a":"2"}}`, "tags.a", "duplicate key"},
		{`{"raw":{"k":1,"k":2}}`, "raw.k", "duplicate key"},
		{`{"plain":1}`, "plain", "case-sensitive"},
		{`{"Skipped":"x"}`, "Skipped", "unknown field"},
		{`{"extra":1}`, "extra", "unknown field"},
		{`{"backup_id":3}`, "backup_id", "JSON number is not a string"},
		{`{"backup_id":"a"} {}`, "", "not valid JSON"},
		{`{"backup_id":"a"`, "", "not valid JSON"},
		{`{"raw":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "raw", "nested deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.doc, func(t *testing.T) {
			var d strictDoc
			err := events.DecodeStrict([]byte(tc.doc), &d)
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("DecodeStrict: %v", err)
				}
				return
			}
			var je *events.JSONError
			if !errors.As(err, &je) || !strings.HasPrefix(je.Field, tc.field) || !strings.Contains(je.Problem, tc.problem) {
				t.Fatalf("DecodeStrict: %v, want field %q and %q", err, tc.field, tc.problem)
			}
		})
	}
}

func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"backup_id":"a","disks":[{"uuid":"u"}]}`, `{"BACKUP_ID":"a"}`,
		`{"a":1,"a":2}`, `{"tags":{"x":"y"}}`, `[]`, `null`, `{"raw":[{"k":[1,{"k":2}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d strictDoc
		if err := events.DecodeStrict(data, &d); err != nil {
			var je *events.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("error %v (%T) is not a *JSONError", err, err)
			}
			return
		}
		// Whatever is accepted is also valid JSON that the standard decoder
		// reads without unknown fields.
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		var again strictDoc
		if err := dec.Decode(&again); err != nil {
			t.Fatalf("accepted %q but encoding/json says %v", data, err)
		}
	})
}
