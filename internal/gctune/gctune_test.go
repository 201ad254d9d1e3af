package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		live uint64
		want int
	}{
		{0, Max},
		{4 << 20, Max},   // a few manifests: collect rarely
		{16 << 20, Max},  // 64 MiB of headroom is exactly GOGC=400
		{32 << 20, 200},  // the headroom spread over a larger heap
		{64 << 20, 100},  // 10,000 Pods held, and more
		{75 << 20, 80},   // steps of 10
		{400 << 20, Min}, // 100,000 Pods: at most half as much again
		{4000 << 20, Min},
	}
	for _, tt := range tests {
		if got := Percent(tt.live); got != tt.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}

func TestFollowTunesAfterCollections(t *testing.T) {
	Follow()
	// Hold a live heap large enough to lower the target, then collect twice: the finalizer of
	// the first collection tunes, the second one sees it re-armed.
	held := make([][]byte, 0, 128)
	for range 128 {
		held = append(held, make([]byte, 1<<20))
	}
	for range 3 {
		runtimeGC()
	}
	if got := currentPercent(); got >= Max {
		t.Errorf("GOGC = %d with %d MiB live, want it lowered below %d", got, len(held), Max)
	}
	runtime.KeepAlive(held)
}

func TestPauseTurnsTheCollectorOffUntilResumed(t *testing.T) {
	before := currentPercent()
	resume := Pause()
	if got := currentPercent(); got != -1 {
		t.Errorf("GOGC = %d while paused, want off (-1)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != PauseLimit {
		t.Errorf("memory limit %d while paused, want %d", got, PauseLimit)
	}
	resume()
	if got := currentPercent(); got != before {
		t.Errorf("GOGC = %d after resume, want %d", got, before)
	}
	if got := debug.SetMemoryLimit(-1); got == PauseLimit {
		t.Errorf("memory limit still %d after resume", got)
	}
}

func TestPauseLeavesTheEnvironmentsSetting(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := currentPercent()
	Pause()()
	resume := Pause()
	defer resume()
	if got := currentPercent(); got != before {
		t.Errorf("GOGC = %d with GOGC set in the environment, want %d", got, before)
	}
}
