package xapisim

import (
	"context"
	"io"
	"testing"

	"xbr/shared/compress"
	"xbr/shared/xva"
)

func BenchmarkGenerate(b *testing.B) {
	g := newGenSource(42, newPatterns(42))
	buf := make([]byte, blockSize)
	b.SetBytes(blockSize)
	for i := 0; b.Loop(); i++ {
		g.fill(buf, int64(i%4096))
	}
}

func BenchmarkKinds(b *testing.B) {
	g := newGenSource(42, newPatterns(42))
	buf := make([]byte, blockSize)
	for _, k := range []struct {
		name string
		f    func(i int)
	}{
		{"random", func(i int) { fillRandom(buf, uint64(i)) }},
		{"text", func(i int) { g.fillText(buf, uint64(i)) }},
		{"pages", func(i int) { fillPages(buf, int64(i), uint64(i)) }},
	} {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(blockSize)
			for i := 0; b.Loop(); i++ {
				k.f(i)
			}
		})
	}
}

func BenchmarkStreamXVA(b *testing.B) {
	const size = 512 << 20
	s, err := New(Options{VMs: 1, DiskSize: size})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	vm := s.VMs()[0]
	if err := s.SetPowerState(vm.Ref, "Halted"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for b.Loop() {
		task := s.newTask("bench", "")
		ref, hdr, disks, err := s.prepareExport(vm.Ref, task)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.streamXVA(context.Background(), task, io.Discard, compress.None, hdr, disks); err != nil {
			b.Fatal(err)
		}
		s.endOperation(ref, task)
	}
	_ = xva.ChunkSize
}
