package gctune

import (
	"runtime"
	"runtime/debug"
	"time"
)

// runtimeGC collects and gives the finalizer goroutine time to run the tuner.
func runtimeGC() {
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
}

// currentPercent reads GOGC without changing it.
func currentPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
