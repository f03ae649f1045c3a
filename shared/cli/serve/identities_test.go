package serve

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nkeys"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
)

// TestServerUsersTakeTheConfiguredLoginAsAClient: besides one user per
// identity, the configured user/password and NKey log in with the client's
// grant, never more.
func TestServerUsersTakeTheConfiguredLoginAsAClient(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	seedFile := filepath.Join(t.TempDir(), "xbr.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := bus.EnsureIdentities(t.TempDir(), identityNames())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{NATS: config.NATS{User: "ops", Password: config.NewSecret("ops-pw"), NKeyFile: seedFile}}
	users, nkeyUsers, err := serverUsers(cfg, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(events.Roles())+1 || len(nkeyUsers) != 1 || nkeyUsers[0].PublicKey != pub {
		t.Fatalf("%d users, %d nkey users", len(users), len(nkeyUsers))
	}
	client, _ := events.RoleOf(events.IdentityClient)
	want := client.Grant(events.Subjects{}, events.StreamNames{})
	last := users[len(users)-1]
	if last.Name != "ops" || last.Password != "ops-pw" || !slices.Equal(last.Grant.Publish, want.Publish) ||
		!slices.Equal(nkeyUsers[0].Grant.Publish, want.Publish) {
		t.Errorf("the configured login does not get the client grant: %+v", last.Grant)
	}
	for _, u := range users[:len(users)-1] {
		if u.Password == "" || u.Name == "" {
			t.Errorf("identity user without a login: %q", u.Name)
		}
	}
}
