package restore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"xbr/functions/restore"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
)

// The "backups" verb reads its request strictly: exact names, no repeats.
func TestBackupsVerbReadsItsRequestStrictly(t *testing.T) {
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf("remotes: [{name: nfs, type: dir, path: %q}]\n", t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	env := &fn.Env{Config: cfg, Remotes: fn.NewRemotes(cfg.Remotes, testsupport.OpenDir)}
	var backups fn.APIHandler
	for _, e := range restore.Function().API {
		if e.Query == restoreclient.QueryBackups.Endpoint {
			backups = e.Handle
		}
	}
	if backups == nil {
		t.Fatal("restore does not answer the backups query")
	}
	if _, err := backups(context.Background(), env, json.RawMessage(`{"remote":"nfs"}`)); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for doc, field := range map[string]string{
		`{"Remote":"nfs"}`:                `"Remote"`,
		`{"remote":"nfs","remote":"nfs"}`: `"remote": duplicate key`,
		`{"remote":"nfs","color":"red"}`:  `"color": unknown field`,
	} {
		_, err := backups(context.Background(), env, json.RawMessage(doc))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming %s", doc, err, field)
		}
	}
}
