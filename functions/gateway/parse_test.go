package gateway_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"xbr/functions/gateway"
)

const goodID = "nfs:0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f/20240501T020013Z"

func TestParseRestoreRequest(t *testing.T) {
	tests := []struct {
		body  string
		field string // "" = valid
		check func(gateway.RestoreRequest) bool
	}{
		{`{"backup_id": "` + goodID + `", "pool": "lab", "sr": "Local storage", "start": true, "name": "web"}`, "",
			func(r gateway.RestoreRequest) bool {
				return r.ID.String() == goodID && r.Start && r.SR == "Local storage"
			}},
		{`{"vm": "web-01"}`, "", func(r gateway.RestoreRequest) bool { return r.Backup == "latest" && r.At.IsZero() }},
		{`{"vm": "web-01", "backup": "20240501T020013Z"}`, "",
			func(r gateway.RestoreRequest) bool { return r.At.Equal(time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC)) }},
		{`{"vm": "web-01", "backup": "2024-05-01T04:00:13+02:00"}`, "",
			func(r gateway.RestoreRequest) bool { return r.At.Equal(time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC)) }},
		{` {"backup_id": "` + goodID + `"}` + "\n", "", nil},
		{`{"backup_id": "nfs:../x"}`, "backup_id", nil},
		{`{"backup_id": ""}`, "backup_id", nil},
		{`{"backup_id": null}`, "backup_id", nil},
		{`{"vm": "a\u0000b"}`, "vm", nil},
		{`{"vm": "x", "backup": "last week"}`, "backup", nil},
		{`{"backup_id": "` + goodID + `", "pool": 3}`, "pool", nil},
		{`{"backup_id": "` + goodID + `", "pool": "lab", "extra": 1}`, "extra", nil},
		{`{"BACKUP_ID": "` + goodID + `"}`, "BACKUP_ID", nil},
		{`{"backup_id": "` + goodID + `", "Pool": "lab"}`, "Pool", nil},
		{`{"backup_id": "a", "backup_id": "` + goodID + `"}`, "backup_id", nil},
		{`{"backup_id": "` + goodID + `", "start": true, "start": false}`, "start", nil},
		{`null`, "body", nil},
		{`"string"`, "body", nil},
		{`{}x`, "body", nil},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			r, err := gateway.ParseRestoreRequest([]byte(tc.body))
			var fe *gateway.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.field == "" && tc.check != nil && !tc.check(r):
				t.Fatalf("parsed %+v", r)
			case tc.field != "" && !errors.As(err, &fe):
				t.Fatalf("error %v (%T), want a FieldError on %s", err, err, tc.field)
			case tc.field != "" && fe.Field != tc.field:
				t.Fatalf("error names %q (%v), want %q", fe.Field, err, tc.field)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want gateway.Command
		err  string // substring of the error; "" = valid
	}{
		{"", gateway.Command{Verb: "help"}, ""},
		{"  help ", gateway.Command{Verb: "help"}, ""},
		{"restore web-01", gateway.Command{Verb: "restore", VM: "web-01", Backup: "latest"}, ""},
		{`RESTORE "web 01" 20240501T020013Z sr=fast pool=lab start`, gateway.Command{Verb: "restore", VM: "web 01",
			Backup: "20240501T020013Z", At: time.Date(2024, 5, 1, 2, 0, 13, 0, time.UTC), SR: "fast", Pool: "lab", Start: true}, ""},
		{"restore web sr=\"Local storage\"", gateway.Command{Verb: "restore", VM: "web", Backup: "latest", SR: "Local storage"}, ""},
		{"backups web-01", gateway.Command{Verb: "backups", VM: "web-01"}, ""},
		{`healthcheck web-01 sr="Local storage"`, gateway.Command{Verb: "healthcheck", VM: "web-01", Backup: "latest", SR: "Local storage"}, ""},
		{"healthcheck web-01", gateway.Command{}, "missing sr=<sr>"},
		{"healthcheck web-01 sr=fast start", gateway.Command{}, "start: not an option"},
		{"run nightly", gateway.Command{Verb: "run", Job: "nightly"}, ""},
		{"run nightly schedule=weekly", gateway.Command{Verb: "run", Job: "nightly", Schedule: "weekly"}, ""},
		{"status 0123abcd", gateway.Command{Verb: "status", ID: "0123abcd"}, ""},
		{"restore", gateway.Command{}, "missing <vm>"},
		{"restore web yesterday", gateway.Command{}, `"yesterday"`},
		{"restore web latest latest", gateway.Command{}, `"latest"`},
		{"restore web force=1", gateway.Command{}, `"force=1"`},
		{"backups", gateway.Command{}, "exactly one <vm>"},
		{"backups a b", gateway.Command{}, "exactly one <vm>"},
		{"run", gateway.Command{}, "<job>"},
		{"run nightly weekly", gateway.Command{}, `"weekly"`},
		{"status ../../x", gateway.Command{}, "not a request id"},
		{"delete everything", gateway.Command{}, `"delete"`},
		{`restore "web`, gateway.Command{}, "unterminated"},
		{"restore web\x00", gateway.Command{}, "control character"},
		{"restore " + strings.Repeat("v", 300), gateway.Command{}, "longer than 256"},
		{strings.Repeat("x", 2000), gateway.Command{}, "longer than 1024"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, err := gateway.ParseCommand(tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseCommand = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseRestoreRequest(f *testing.F) {
	f.Add([]byte(`{"backup_id": "` + goodID + `", "pool": "lab", "start": true}`))
	f.Add([]byte(`{"vm": "web-01", "backup": "latest", "sr": "Local storage"}`))
	f.Add([]byte(`{"backup_id": "nfs:%2e%2e/x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := gateway.ParseRestoreRequest(body)
		if err != nil {
			var fe *gateway.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v names no field", err)
			}
			return
		}
		if r.BackupID == "" && r.VM == "" {
			t.Fatalf("accepted a request that selects no backup: %+v", r)
		}
		if r.BackupID != "" && (r.ID.String() != r.BackupID || strings.Contains(r.BackupID, "..")) {
			t.Fatalf("accepted backup id %q as %q", r.BackupID, r.ID)
		}
		for _, v := range []string{r.VM, r.Pool, r.SR, r.Name} {
			if len(v) > 256 || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n\r") {
				t.Fatalf("accepted value %q", v)
			}
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	f.Add("restore web-01 latest sr=fast start")
	f.Add(`restore "web 01" 20240501T020013Z pool=lab`)
	f.Add("status 0123abcd")
	f.Add("run nightly schedule=daily")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := gateway.ParseCommand(text)
		if err != nil {
			return
		}
		switch c.Verb {
		case gateway.VerbRestore, gateway.VerbBackups:
			if c.VM == "" {
				t.Fatalf("%q: %s without a VM", text, c.Verb)
			}
		case gateway.VerbRun:
			if c.Job == "" {
				t.Fatalf("%q: run without a job", text)
			}
		case gateway.VerbStatus:
			if c.ID == "" || strings.ContainsAny(c.ID, "./ ") {
				t.Fatalf("%q: status id %q", text, c.ID)
			}
		case gateway.VerbHelp:
		default:
			t.Fatalf("%q: verb %q", text, c.Verb)
		}
		for _, v := range []string{c.VM, c.SR, c.Pool, c.Job, c.Schedule} {
			if len(v) > 256 || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00") {
				t.Fatalf("%q: accepted value %q", text, v)
			}
		}
	})
}
