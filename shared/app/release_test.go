package app

import (
	"runtime"
	"testing"
)

var sink [][]byte

// TestReleaseIfIdle: heap freed after a burst is returned to the OS when
// more than the threshold of it is held, and left alone below it.
func TestReleaseIfIdle(t *testing.T) {
	const burst = 64 << 20
	for range burst >> 20 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.GC()
	if free := freeHeap(); free < burst/2 {
		t.Fatalf("after a %d MiB burst, %d MiB of heap free: the test cannot tell", burst>>20, free>>20)
	}
	if releaseIfIdle(1 << 40) {
		t.Error("released below the threshold")
	}
	if !releaseIfIdle(releaseIdle) {
		t.Fatalf("%d MiB free, threshold %d MiB: not released", freeHeap()>>20, releaseIdle>>20)
	}
	if free := freeHeap(); free > releaseIdle {
		t.Errorf("after the release %d MiB of heap still free and held", free>>20)
	}
}
