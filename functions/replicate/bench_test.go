package replicate_test

import (
	"context"
	"os"
	"testing"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
)

// BenchmarkReplicate replicates one VM (snapshot, /export streamed into
// /import, finish, prune the previous copy, destroy the snapshot) per
// iteration. With XBR_BENCH_SRC_URL and XBR_BENCH_DST_URL it uses those
// pools (scripts/bench-replicate.sh points them at two `xbr xapi-sim`
// processes, user root, password xapisim) and the VM named
// $XBR_BENCH_VM (default vm-02); otherwise two in-process simulators.
func BenchmarkReplicate(b *testing.B) {
	ctx := context.Background()
	src, dst, vmUUID := benchPools(b)
	s := replicate.Spec{Job: "bench", Schedule: "bench", VMUUID: vmUUID, TargetSR: "Local storage",
		CopyRetention: 1, Compression: os.Getenv("XBR_BENCH_CODEC")}
	warm, err := replicate.Replicate(ctx, src, dst, s, replicate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(warm.Bytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := replicate.Replicate(ctx, src, dst, s, replicate.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPools(b *testing.B) (src, dst *xapi.Client, vmUUID string) {
	srcURL, dstURL := os.Getenv("XBR_BENCH_SRC_URL"), os.Getenv("XBR_BENCH_DST_URL")
	if srcURL == "" || dstURL == "" {
		m, s := startPool(b, "main", 2), startPool(b, "standby", 1)
		src, dst = m.client, s.client
	} else {
		src, dst = benchLogin(b, srcURL), benchLogin(b, dstURL)
	}
	name := os.Getenv("XBR_BENCH_VM")
	if name == "" {
		name = "vm-02"
	}
	vms, err := src.VMs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, vm := range vms {
		if vm.NameLabel == name && !vm.IsASnapshot {
			return src, dst, vm.UUID
		}
	}
	b.Fatalf("no VM %q on the source pool", name)
	return nil, nil, ""
}

func benchLogin(b *testing.B, url string) *xapi.Client {
	c, err := xapi.New(url)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Login(context.Background(), "root", "xapisim"); err != nil {
		b.Fatal(err)
	}
	return c
}
