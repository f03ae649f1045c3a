package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/xapi"
)

// storePoint stores a real export of the harness's VM as a restore point of
// the nfs remote's repository, as the incremental backup does.
func (h *harness) storePoint(t *testing.T, at time.Time) catalog.ID {
	t.Helper()
	ctx := context.Background()
	c, err := h.env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Export(ctx, xapi.VMRef(h.vm.Ref), xapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(tr)
	tr.Close()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := h.env.Repos.Ensure(ctx, "nfs")
	if err != nil {
		t.Fatal(err)
	}
	repoimagetest.StorePoint(t, rp, h.vm.UUID, at, bytes.NewReader(data))
	id, err := catalog.NewRepoID("nfs", h.vm.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The restore view lists restore points beside full backups, marked
// incremental, and the webhook requests their restore; a point that does not
// exist is a 404.
func TestRestorePointsInViewAndWebhook(t *testing.T) {
	h := newHarness(t)
	id := h.storePoint(t, time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC))
	for path, want := range map[string][]string{
		"/restore?remote=nfs&vm=" + h.vm.UUID: {"2024-05-02 02:00:00 UTC", ">incremental<", ">full<",
			`href="/restore?backup=` + url.QueryEscape(id.String()) + `"`, `href="/restore?backup=` + url.QueryEscape(h.backup.String()) + `"`},
		"/restore?backup=" + url.QueryEscape(id.String()): {"incremental restore point", `<form method="post" action="/restore"`},
	} {
		code, page := h.do(t, "GET", path, nil, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", path, code, page)
		}
		for _, w := range want {
			if !strings.Contains(strings.ToLower(page), strings.ToLower(w)) {
				t.Errorf("GET %s: page lacks %q:\n%s", path, w, page)
			}
		}
	}

	body := `{"backup_id": "` + id.String() + `", "pool": "lab"}`
	code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	if code != http.StatusAccepted {
		t.Fatalf("webhook restore of a point: status %d: %s", code, out)
	}
	if a := decode[accepted](t, out); a.BackupID != id.String() {
		t.Fatalf("accepted %+v, want backup %s", a, id)
	}
	if n := h.count(t, events.TypeRestoreRequested); n != 1 {
		t.Fatalf("%d restore.requested published, want 1", n)
	}
	gone := `{"backup_id": "nfs:xbr-repo/` + h.vm.UUID + `/20240503T020000Z", "pool": "lab"}`
	if code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), gone), gone); code != http.StatusNotFound {
		t.Fatalf("webhook restore of a missing point: status %d: %s", code, out)
	}
}
