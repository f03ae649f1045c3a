package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// A timestamp is claimed once: a second claim fails with ErrClaimed (and
// remote.ErrExists) until the claim is released. The claim lies outside
// the VM folder, where Xen Orchestra's cleanVm never looks and where the
// listing sees no backup or problem.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	r := newDir(t, "nfs")
	id, err := catalog.NewID("nfs", vmA, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := catalog.Claim(ctx, r, id, "run-1"); err != nil {
		t.Fatal(err)
	}
	err = catalog.Claim(ctx, r, id, "run-2")
	if !errors.Is(err, catalog.ErrClaimed) || !errors.Is(err, remote.ErrExists) {
		t.Fatalf("second claim: %v, want ErrClaimed", err)
	}
	if strings.HasPrefix(id.ClaimKey(), catalog.VMPrefix(vmA)) || !strings.HasPrefix(id.ClaimKey(), catalog.Root+".") {
		t.Errorf("claim key %s is not in a hidden folder of %s", id.ClaimKey(), catalog.Root)
	}
	if bs, probs, err := catalog.List(ctx, r, catalog.Filter{}); err != nil || len(bs)+len(probs) != 0 {
		t.Errorf("list with a claim: %v %v %v", bs, probs, err)
	}
	if err := catalog.ReleaseClaim(ctx, r, id); err != nil {
		t.Fatal(err)
	}
	if err := catalog.ReleaseClaim(ctx, r, id); err != nil {
		t.Errorf("releasing a released claim: %v", err)
	}
	if err := catalog.Claim(ctx, r, id, "run-2"); err != nil {
		t.Errorf("claim after release: %v", err)
	}
}

func TestParseClaimKey(t *testing.T) {
	id, _ := catalog.NewID("nfs", vmA, t0)
	got, ok := catalog.ParseClaimKey("nfs", id.ClaimKey())
	if !ok || got != id {
		t.Errorf("ParseClaimKey(%s) = %v, %v; want %v", id.ClaimKey(), got, ok, id)
	}
	for _, key := range []string{
		catalog.ClaimsFolder + vmA,
		catalog.ClaimsFolder + vmA + ".20260301T020000Z.tmp",
		catalog.ClaimsFolder + strings.ToUpper(vmA) + ".20260301T020000Z",
		catalog.ClaimsFolder + vmA + ".20261301T020000Z",
		catalog.ClaimsFolder + "x/" + vmA + ".20260301T020000Z",
		catalog.VMPrefix(vmA) + "20260301T020000Z.json",
	} {
		if got, ok := catalog.ParseClaimKey("nfs", key); ok {
			t.Errorf("ParseClaimKey(%q) = %v, want not a claim", key, got)
		}
	}
}
