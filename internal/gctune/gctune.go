// Package gctune sets the garbage collector's target from the live heap. A process with a small
// live heap (a check of a few manifests) collects rarely, at GOGC=Max: policy evaluation allocates
// many short-lived values, and collecting a quarter as often saves a fifth of the CPU. As the live
// heap grows (a check of many thousand objects, every one held for the inventory), the target falls
// towards GOGC=Min, so that the peak stays within the live heap and a fixed headroom, not five
// times the live heap.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The bounds of the collector's target, in GOGC percent, and the headroom above the live heap the
// target keeps until it reaches Min.
const (
	Max      = 400
	Min      = 50
	Headroom = 64 << 20
)

var start sync.Once

// Follow sets GOGC=Max now and, after every collection, the percent that keeps the next target at
// the live heap plus Headroom, within [Min, Max]. It is called once per process; later calls do
// nothing.
func Follow() {
	start.Do(func() {
		debug.SetGCPercent(Max)
		t := &tuner{percent: Max, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
		t.arm()
	})
}

type tuner struct {
	percent int
	sample  []metrics.Sample
}

// sentinel is garbage as soon as it is made: its finalizer runs after the next collection.
type sentinel struct{ t *tuner }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{t: t}, func(s *sentinel) {
		s.t.tune()
		s.t.arm()
	})
}

func (t *tuner) tune() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := Percent(t.sample[0].Value.Uint64())
	if p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
}

// Percent is the GOGC that puts the next collection at live plus Headroom, within [Min, Max], in
// steps of 10 so that a live heap that wavers does not change it at every collection.
func Percent(live uint64) int {
	if live == 0 {
		return Max
	}
	p := int(Headroom * 100 / live)
	p -= p % 10
	return max(Min, min(Max, p))
}

// PauseLimit is the heap at which a paused collector collects anyway.
const PauseLimit = 1 << 30

// Pause turns the collector off until resume is called, for a command that builds one structure
// from its input and keeps it (an RBAC model from its manifests): a collection while it loads
// marks nearly all of what it has allocated, which it will keep, and the last one comes when that
// is largest (loading 25,000 RBAC objects spent a fifth of its CPU so). The heap may grow to
// PauseLimit before the runtime collects anyway (debug.SetMemoryLimit). With GOGC or GOMEMLIMIT in
// the environment the collector stays as they set it. resume restores the target and the limit.
func Pause() (resume func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	limit := debug.SetMemoryLimit(PauseLimit)
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
