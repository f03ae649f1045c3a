package restore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/functions/restore"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// accept asks the restore function's acceptance query, as the CLI does.
func (e *env) accept(p restoreclient.Params) (restoreclient.Accepted, error) {
	e.t.Helper()
	var h fn.APIHandler
	for _, ep := range restore.Function().API {
		if ep.Query == restoreclient.QueryAccept.Endpoint {
			h = ep.Handle
		}
	}
	if h == nil {
		e.t.Fatal("restore does not answer the restore acceptance query")
	}
	body, err := json.Marshal(p)
	must(e.t, err)
	env := &fn.Env{Config: &config.Config{}, Pools: e.pools, Remotes: e.remotes, Now: time.Now}
	resp, err := h(context.Background(), env, body)
	if err != nil {
		return restoreclient.Accepted{}, err
	}
	return resp.(restoreclient.Accepted), nil
}

// A second restore of one backup does not make two VMs of one name: it is
// accepted with a warning and a distinct name, which the restore gives the
// VM. A retry of the first request keeps its id and gets no warning.
func TestSecondRestoreGetsADistinctName(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	want := src.NameLabel + " (" + id.Timestamp() + ")"
	p := restoreclient.Params{BackupID: id.String(), Pool: poolName, Key: "first"}

	first, err := e.accept(p)
	if err != nil || len(first.Warnings) != 0 || first.Request.Name != "" {
		t.Fatalf("first restore: %+v %v", first, err)
	}
	if done := e.completed(rawRequest(t, first.Request, 1)); done.NewVMName != want {
		t.Fatalf("first restored VM named %q, want %q", done.NewVMName, want)
	}
	again, err := e.accept(p)
	if err != nil || len(again.Warnings) != 0 || again.Request.RequestID != first.Request.RequestID {
		t.Fatalf("a retry of the first request: %+v %v", again, err)
	}

	for i, suffix := range []string{" (2)", " (3)"} {
		p.Key = "again" + suffix
		a, err := e.accept(p)
		if err != nil {
			t.Fatal(err)
		}
		if a.Request.Name != want+suffix || len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], `already named "`+want+`"`) ||
			!strings.Contains(a.Warnings[0], `the new VM is named "`+want+suffix+`"`) {
			t.Fatalf("restore %d: %+v", i+2, a)
		}
		done := e.completed(rawRequest(t, a.Request, 1))
		if got := e.vmByUUID(done.NewVMUUID); got.NameLabel != want+suffix || done.NewVMName != want+suffix {
			t.Fatalf("restore %d made VM %q (event %q), want %q", i+2, got.NameLabel, done.NewVMName, want+suffix)
		}
	}
}

// Every target is checked before the request is accepted: the error names
// the field and the value.
func TestAcceptRefusesUnknownTargets(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.Gzip})
	gone, err := catalog.NewID(remoteName, e.halted().UUID, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	must(t, err)
	for _, tc := range []struct {
		name string
		p    restoreclient.Params
		want string
	}{
		{"unknown remote", restoreclient.Params{BackupID: "tape:" + strings.SplitN(id.String(), ":", 2)[1], Pool: poolName},
			`backup_id "tape:` + id.VM + `/` + id.Timestamp() + `": remote "tape" is not configured (known: nfs)`},
		{"no such backup", restoreclient.Params{BackupID: gone.String(), Pool: poolName}, `backup_id "` + gone.String() + `": no such backup`},
		{"unknown pool", restoreclient.Params{BackupID: id.String(), Pool: "prod"}, `pool "prod": is not configured (known: lab)`},
		{"unknown SR", restoreclient.Params{BackupID: id.String(), Pool: poolName, SR: "tape"}, `sr "tape": is not an SR of pool lab`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.accept(tc.p)
			var nf *restoreclient.NotFoundError
			if !errors.As(err, &nf) || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := e.accept(restoreclient.Params{BackupID: id.String(), Pool: poolName, SR: srField(e, "name_label")}); err != nil {
		t.Fatalf("an SR by name: %v", err)
	}
}

// A request published without Accept (by another team on the backbone, or
// racing another accept) still never makes two VMs of one name: the
// restore names its VM distinctly when the asked name was taken meanwhile,
// and its completed event says so.
func TestRestoreNamesDistinctlyWithoutAccept(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	want := src.NameLabel + " (" + id.Timestamp() + ")"
	first := e.completed(request(t, restoreclient.Params{BackupID: id.String(), Key: "a"}, 1))
	second := e.completed(request(t, restoreclient.Params{BackupID: id.String(), Key: "b"}, 1))
	if first.NewVMName != want || second.NewVMName != want+" (2)" {
		t.Fatalf("restored VMs named %q and %q, want %q and %q", first.NewVMName, second.NewVMName, want, want+" (2)")
	}
	if got := e.vmByUUID(second.NewVMUUID); got.NameLabel != want+" (2)" {
		t.Fatalf("the second VM is named %q", got.NameLabel)
	}
	// A redelivery of the second request keeps its VM and its name.
	again := e.completed(request(t, restoreclient.Params{BackupID: id.String(), Key: "b"}, 2))
	if again.NewVMUUID != second.NewVMUUID || again.NewVMName != want+" (2)" {
		t.Fatalf("redelivery: %+v, want VM %s named %q", again, second.NewVMUUID, want+" (2)")
	}
}
