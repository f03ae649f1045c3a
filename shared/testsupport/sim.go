package testsupport

import (
	"context"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// StartSim starts a simulated pool with o on a loopback port and returns
// it with its URL and a client logged in to it; the pool stops when t ends.
func StartSim(t testing.TB, o xapisim.Options) (*xapisim.Server, string, *xapi.Client) {
	t.Helper()
	sim, err := xapisim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	if err := c.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	return sim, url, c
}
