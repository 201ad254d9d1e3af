package rego

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// A Guard bounds the Rego evaluations of a process where a deadline alone does not: OPA has no
// memory limit, and `count([x | some x in numbers.range(1, 1e8)])` builds gigabytes well before a
// webhook's deadline, taking the pod (every request it serves) down with it. So a Guard
//
//   - lets at most Concurrency evaluations run at once: they are CPU-bound, so more than GOMAXPROCS
//     only adds the memory of the ones waiting for a core; the others wait for a slot, under their
//     deadline;
//   - reads the heap while evaluations run and, once the live heap passes HeapLimit, stops every
//     running evaluation with a HeapLimitError, as their deadline would stop them.
//
// Go cannot say which goroutine holds which memory: the limit is on the whole process's live heap,
// and every evaluation running when it is passed is stopped (under failurePolicy Fail, refused).
// That is the price of keeping the process alive: one evaluation that grows without bound is
// stopped within a sampling interval of passing the limit, instead of growing into the OOM kill.
type Guard struct {
	slots    chan struct{}
	limit    uint64 // 0: no heap limit
	interval time.Duration

	forced uint64 // the collection count after the last collection check forced; watch's own

	mu       sync.Mutex
	running  map[int]context.CancelCauseFunc
	next     int
	watching bool
}

// GuardOptions size a Guard.
type GuardOptions struct {
	// Concurrency is how many evaluations may run at once; GOMAXPROCS when zero.
	Concurrency int
	// HeapLimit is the live heap, in bytes, past which running evaluations are stopped; when zero,
	// DefaultHeapLimit; when negative, none.
	HeapLimit int64
	// Interval is how often the heap is read while evaluations run; DefaultHeapInterval when zero.
	Interval time.Duration
}

// DefaultHeapInterval is how often a Guard reads the heap while evaluations run: reading
// runtime/metrics costs about a microsecond, and an evaluation allocates at most a few hundred
// megabytes in this time.
const DefaultHeapInterval = 10 * time.Millisecond

// fallbackHeapLimit is the heap limit when GOMEMLIMIT is not set (the CLI on a laptop or a CI
// runner): far above what a policy set and its inputs need, below what a machine has.
const fallbackHeapLimit = 2 << 30

// DefaultHeapLimit is three quarters of the Go runtime's soft memory limit (GOMEMLIMIT, which the
// install sets from the container's memory limit), or 2 GiB when none is set. The quarter left is
// for the rest of the process, goroutine stacks and the runtime's own memory included, so that the
// evaluations are stopped before the kernel kills the container.
func DefaultHeapLimit() int64 { return heapLimitFor(debug.SetMemoryLimit(-1)) }

func heapLimitFor(memLimit int64) int64 {
	if memLimit <= 0 || memLimit == math.MaxInt64 {
		return fallbackHeapLimit
	}
	return memLimit / 4 * 3
}

// NewGuard returns a guard sized by opts.
func NewGuard(opts GuardOptions) *Guard {
	n := opts.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	limit := opts.HeapLimit
	if limit == 0 {
		limit = DefaultHeapLimit()
	}
	g := &Guard{slots: make(chan struct{}, n), interval: opts.Interval, running: map[int]context.CancelCauseFunc{}}
	if limit > 0 {
		g.limit = uint64(limit)
	}
	if g.interval <= 0 {
		g.interval = DefaultHeapInterval
	}
	return g
}

// DefaultGuard is the guard of the process, shared by every compiled set that names none, made on
// first use with GuardOptions{}: one process, one heap, one pool of cores.
var DefaultGuard = sync.OnceValue(func() *Guard { return NewGuard(GuardOptions{}) })

// HeapLimitError stops the evaluations running when the live heap passed the guard's limit.
type HeapLimitError struct {
	Live, Limit uint64
}

func (e *HeapLimitError) Error() string {
	return fmt.Sprintf("the live heap reached %d MiB, above the %d MiB limit of Rego evaluations (a policy building a huge collection, such as numbers.range over millions?)",
		e.Live>>20, e.Limit>>20)
}

// ErrNoSlot is returned, wrapped with the context's error, by an evaluation whose deadline passed
// while it waited for a slot.
var ErrNoSlot = errors.New("no evaluation slot was free")

// enter waits for a slot and returns the context to evaluate under, cancelled if the heap passes
// the limit, and the function that gives the slot back.
func (g *Guard) enter(ctx context.Context) (context.Context, func(), error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("%w among %d: %w", ErrNoSlot, cap(g.slots), context.Cause(ctx))
	}
	if g.limit == 0 {
		return ctx, func() { <-g.slots }, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	g.mu.Lock()
	id := g.next
	g.next++
	g.running[id] = cancel
	if !g.watching {
		g.watching = true
		go g.watch()
	}
	g.mu.Unlock()
	return ctx, func() {
		g.mu.Lock()
		delete(g.running, id)
		g.mu.Unlock()
		cancel(nil)
		<-g.slots
	}, nil
}

// watch reads the heap every interval while evaluations run, and stops them all once it is over the
// limit. It ends when none runs; the next evaluation starts it again.
func (g *Guard) watch() {
	ticker := time.NewTicker(g.interval)
	defer ticker.Stop()
	for range ticker.C {
		g.mu.Lock()
		if len(g.running) == 0 {
			g.watching = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		err := g.check()
		if err == nil {
			continue
		}
		g.mu.Lock()
		for _, cancel := range g.running {
			cancel(err)
		}
		g.mu.Unlock()
	}
}

// check compares the heap with the limit. The live heap of the last collection over the limit
// stops the evaluations. The heap read between collections counts garbage too, so a heap over the
// limit is confirmed by a collection first, at most one per collection the runtime makes itself:
// forcing one at every tick while the garbage is high would only make the collector work harder,
// and a heap that keeps growing is caught by the runtime's next collection, which GOMEMLIMIT brings
// forward as memory runs short.
func (g *Guard) check() error {
	if live := heapBytes("/gc/heap/live:bytes"); live > g.limit {
		return &HeapLimitError{Live: live, Limit: g.limit}
	}
	if heapBytes("/memory/classes/heap/objects:bytes") <= g.limit {
		return nil
	}
	if heapBytes("/gc/cycles/total:gc-cycles") == g.forced {
		return nil // the last collection was ours, and found the heap under the limit
	}
	runtime.GC()
	g.forced = heapBytes("/gc/cycles/total:gc-cycles")
	if live := heapBytes("/gc/heap/live:bytes"); live > g.limit {
		return &HeapLimitError{Live: live, Limit: g.limit}
	}
	return nil
}

func heapBytes(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
