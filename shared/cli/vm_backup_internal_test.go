package cli

import (
	"errors"
	"strings"
	"testing"

	"xbr/shared/restoreclient"
)

// TestPickRefusalSaysHowToChoose: when the server's listing has problems,
// --vm without --at names no backup and says how to choose one.
func TestPickRefusalSaysHowToChoose(t *testing.T) {
	v := vmBackup{vm: "web"}
	l := restoreclient.Listing{Problems: []string{"nfs: restore points not listed: config.json: unexpected EOF"}}
	_, err := restoreclient.Pick(l, v.vm, v.when)
	err = v.explain(err)
	var inc *restoreclient.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("got %v, want an IncompleteError", err)
	}
	for _, want := range []string{"nfs: restore points not listed", `xbr backups ls --vm "web"`, "BACKUP-ID", "--at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := v.explain(errors.New("other")); err.Error() != "other" {
		t.Errorf("another error became %q", err)
	}
}
