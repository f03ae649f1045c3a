package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/restoreclient"
)

type accepted struct {
	ID       string `json:"id"`
	BackupID string `json:"backup_id"`
	Pool     string `json:"pool"`
	SR       string `json:"sr"`
}

type apiErr struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

func TestWebhookSignatures(t *testing.T) {
	h := newHarness(t)
	body := fmt.Sprintf(`{"backup_id": %q, "pool": "lab"}`, h.backup)
	now := time.Now()
	tests := []struct {
		name   string
		header http.Header
	}{
		{"no signature", http.Header{"Content-Type": {"application/json"}}},
		{"wrong secret", signed("not-the-secret", now, body)},
		{"signature of another body", signed(webhookSecret, now, body+" ")},
		{"timestamp 6 minutes old", signed(webhookSecret, now.Add(-6*time.Minute), body)},
		{"timestamp 6 minutes ahead", signed(webhookSecret, now.Add(6*time.Minute), body)},
		{"timestamp swapped after signing", func() http.Header {
			hd := signed(webhookSecret, now, body)
			hd.Set("X-Xbr-Timestamp", fmt.Sprint(now.Unix()+1))
			return hd
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, "POST", "/v1/restores", tc.header, body)
			if code != http.StatusUnauthorized {
				t.Fatalf("status %d (%s), want 401", code, out)
			}
			if strings.Contains(out, webhookSecret) {
				t.Fatalf("the answer reveals the secret: %s", out)
			}
			if n := h.count(t, events.TypeRestoreRequested); n != 0 {
				t.Fatalf("%d restore.requested published after a refused request", n)
			}
		})
	}

	good := signed(webhookSecret, now, body)
	code, out := h.do(t, "POST", "/v1/restores", good, body)
	if code != http.StatusAccepted {
		t.Fatalf("signed request: status %d: %s", code, out)
	}
	a := decode[accepted](t, out)
	if a.ID == "" || a.BackupID != h.backup.String() || a.Pool != "lab" {
		t.Fatalf("answer %+v", a)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restore.requested published, want exactly 1", n)
	}
	st := lookup(t, h, a.ID)
	if st.State != restoreclient.StatePending || st.BackupID != h.backup.String() || st.Pool != "lab" || st.RequestedBy != "webhook" {
		t.Fatalf("stored request %+v", st)
	}

	// A redelivery of the same signed request is refused: a signature is used once.
	code, out = h.do(t, "POST", "/v1/restores", good, body)
	if code != http.StatusUnauthorized {
		t.Fatalf("redelivery: %d %s, want 401", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("a redelivery published again: %d events", n)
	}
}

func lookup(t *testing.T, h *harness, id string) restoreclient.Status {
	t.Helper()
	st, err := restoreclient.Lookup(context.Background(), h.env.Conn.JetStream(), h.env.Subjects, h.env.Streams, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWebhookRefusesHostileBackupIDs(t *testing.T) {
	h := newHarness(t)
	u, ts := h.vm.UUID, h.backup.Timestamp()
	hostile := []string{
		"../../../etc/passwd",
		"/etc/passwd",
		"nfs:/" + u + "/" + ts,
		"nfs:../" + u + "/" + ts,
		"nfs:" + u + "/../" + ts,
		"nfs:" + u + "/" + ts + "/..",
		"nfs:" + u + "/../../../../etc/shadow",
		"..:" + u + "/" + ts,
		"nfs:%2e%2e/" + u + "/" + ts,
		"nfs:" + u + "%2F..%2F" + ts,
		"nfs:" + u + "/" + ts + "%00",
		"nfs:" + u + "/" + ts + "\x00",
		"nfs:" + u + "\\..\\" + ts,
		"nfs:" + u + "//" + ts,
		"nfs:" + strings.ToUpper(u) + "/" + ts,
		"nfs:" + u + "/" + ts + ".json",
		"nfs:" + u + "/" + ts + "\u202e",
		"nfs:" + u + "/2024-05-01T02:00:13Z",
		" nfs:" + u + "/" + ts,
		"nfs:" + u + "/" + ts + "\n",
		"nfs:" + u + "/" + ts + "/x",
		"nfs" + u + "/" + ts,
		"nfs:" + u + "/20241301T020013Z",
		strings.Repeat("a", 300) + ":" + u + "/" + ts,
		"ﬁle:" + u + "/" + ts,
	}
	for _, id := range hostile {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			b, _ := json.Marshal(map[string]string{"backup_id": id})
			body := string(b)
			code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", code, out)
			}
			if e := decode[apiErr](t, out); e.Field != "backup_id" {
				t.Fatalf("error %+v does not name backup_id", e)
			}
		})
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restore.requested published for hostile ids", n)
	}
}

func TestWebhookRefusesBadBodies(t *testing.T) {
	h := newHarness(t)
	id := h.backup.String()
	tests := []struct {
		name, body, field string
		code              int
	}{
		{"empty", ``, "body", 400},
		{"not JSON", `restore please`, "body", 400},
		{"array", `[{"backup_id": "x"}]`, "body", 400},
		{"truncated", `{"backup_id": "` + id, "body", 400},
		{"number id", `{"backup_id": 5}`, "backup_id", 400},
		{"trailing data", `{"backup_id": "` + id + `"} {}`, "body", 400},
		{"unknown field", `{"backup_id": "` + id + `", "force": true}`, "force", 400},
		{"start not a bool", `{"backup_id": "` + id + `", "start": "yes"}`, "start", 400},
		{"both id and vm", `{"backup_id": "` + id + `", "vm": "x"}`, "backup_id", 400},
		{"neither id nor vm", `{"pool": "lab"}`, "backup_id", 400},
		{"bad backup time", `{"vm": "x", "backup": "yesterday"}`, "backup", 400},
		{"bad remote", `{"vm": "x", "remote": "../nfs"}`, "remote", 400},
		{"name with a newline", `{"backup_id": "` + id + `", "name": "a\nb"}`, "name", 400},
		{"sr too long", `{"backup_id": "` + id + `", "sr": "` + strings.Repeat("s", 300) + `"}`, "sr", 400},
		{"oversized", `{"name": "` + strings.Repeat("x", 70<<10) + `"}`, "", 413},
		{"unknown remote", `{"backup_id": "s3:` + h.vm.UUID + `/` + h.backup.Timestamp() + `"}`, "backup_id", 404},
		{"unknown backup", `{"backup_id": "nfs:` + h.vm.UUID + `/20200101T000000Z"}`, "backup_id", 404},
		{"VM without backups", `{"vm": "no-such-vm"}`, "vm", 404},
		{"no backup at that time", `{"vm": "` + h.vm.UUID + `", "backup": "20200101T000000Z"}`, "backup", 404},
		{"unknown pool", `{"backup_id": "` + id + `", "pool": "prod"}`, "pool", 404},
		{"unknown SR", `{"backup_id": "` + id + `", "sr": "no-such-sr"}`, "sr", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), tc.body), tc.body)
			if code != tc.code {
				t.Fatalf("status %d (%s), want %d", code, out, tc.code)
			}
			if e := decode[apiErr](t, out); e.Field != tc.field || e.Error == "" {
				t.Fatalf("error %+v, want field %q", e, tc.field)
			}
		})
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 0 {
		t.Fatalf("%d restore.requested published for refused bodies", n)
	}
}

func TestWebhookVMLatestAndSRByName(t *testing.T) {
	h := newHarness(t)
	older := makeBackup(t, h.env, h.sim, h.vm, "nfs", time.Date(2024, 4, 30, 2, 0, 0, 0, time.UTC))
	srs, err := h.sim.Record("SR", h.sim.SRRef())
	if err != nil {
		t.Fatal(err)
	}
	srName, srUUID := srs["name_label"].(string), srs["uuid"].(string)
	tests := []struct {
		name, body string
		backup     string
		sr         string
	}{
		{"by name, latest", `{"vm": "` + h.vm.NameLabel + `", "backup": "latest", "start": true}`, h.backup.String(), ""},
		{"by uuid, default latest", `{"vm": "` + h.vm.UUID + `", "sr": "` + srName + `"}`, h.backup.String(), srUUID},
		{"by uuid at a time", `{"vm": "` + h.vm.UUID + `", "backup": "2024-04-30T02:00:00Z", "remote": "nfs"}`, older.String(), ""},
		{"SR by uuid", `{"backup_id": "` + older.String() + `", "sr": "` + srUUID + `"}`, older.String(), srUUID},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), tc.body), tc.body)
			if code != http.StatusAccepted {
				t.Fatalf("status %d: %s", code, out)
			}
			st := lookup(t, h, decode[accepted](t, out).ID)
			if st.BackupID != tc.backup || st.SR != tc.sr || st.Pool != "lab" {
				t.Fatalf("requested %+v, want backup %s sr %q", st, tc.backup, tc.sr)
			}
			if n := h.count(t, events.TypeRestoreRequested); n != uint64(i+1) {
				t.Fatalf("%d requests stored, want %d", n, i+1)
			}
		})
	}
}

// TestWebhookLatestRefusedFromAnIncompleteListing: when a remote's repository
// cannot be opened, "latest" is not known and is refused (409: asking again
// will not help until the remote is repaired, or a backup is named) naming the remote;
// a backup chosen by its time is still restored.
func TestWebhookLatestRefusedFromAnIncompleteListing(t *testing.T) {
	h := newHarness(t)
	repoDir := filepath.Join(h.env.Config.Remotes[0].Path, "xbr-repo")
	if err := os.MkdirAll(repoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repoDir, "config.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := `{"vm": "` + h.vm.UUID + `", "backup": "latest"}`
	code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	if code != http.StatusConflict || !strings.Contains(out, "nfs: restore points not listed") || !strings.Contains(out, "backup id") {
		t.Fatalf("latest from an incomplete listing: status %d: %s", code, out)
	}
	body = `{"vm": "` + h.vm.UUID + `", "backup": "2024-05-01T02:00:13Z"}`
	if code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body); code != http.StatusAccepted {
		t.Fatalf("by its time: status %d: %s", code, out)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d requests stored, want 1", n)
	}
}
