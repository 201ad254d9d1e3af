package rego

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

func prepare(t *testing.T, guard *Guard, source, query string) *Query {
	t.Helper()
	c, err := Compile([]Module{{Filename: "p.rego", Source: source}}, Options{Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Prepare(context.Background(), query, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestHeapLimitStopsEvaluation gives evaluations a heap limit 64 MiB above what the test process
// holds: policies that build huge collections stop with a readable error, long before their
// deadline and their gigabytes.
func TestHeapLimitStopsEvaluation(t *testing.T) {
	tests := []struct{ name, source string }{
		{name: "numbers.range", source: "package p\n\nn := count([x | some x in numbers.range(1, 1e8)])\n"},
		{name: "a comprehension over small ranges", source: "package p\n\nn := count([[x, y] | some x in numbers.range(1, 20000); some y in numbers.range(1, 20000)])\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			limit := int64(heapBytes("/gc/heap/live:bytes")) + 64<<20
			q := prepare(t, NewGuard(GuardOptions{Concurrency: 1, HeapLimit: limit, Interval: time.Millisecond}), tc.source, "data.p.n")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			_, err := q.Eval(ctx, ast.NewObject())
			var heap *HeapLimitError
			if !errors.As(err, &heap) {
				t.Fatalf("error = %v, want a HeapLimitError", err)
			}
			if want := "evaluation of data.p.n stopped: the live heap reached"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
			if heap.Limit != uint64(limit) || heap.Live <= heap.Limit {
				t.Errorf("live %d, limit %d (want %d)", heap.Live, heap.Limit, limit)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("stopped after %v", d)
			}
		})
	}
}

// TestGuardLimitsConcurrency holds the only slot of a guard with a slow evaluation: another waits,
// and fails at its deadline saying it never started.
func TestGuardLimitsConcurrency(t *testing.T) {
	guard := NewGuard(GuardOptions{Concurrency: 1, HeapLimit: -1})
	slow := prepare(t, guard, "package p\n\nn := count([1 | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); i == 0 - j])\n", "data.p.n")
	fast := prepare(t, guard, "package p\n\nn := 1\n", "data.p.n")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := slow.Eval(ctx, ast.NewObject()); done <- err }()
	for deadline := time.Now().Add(10 * time.Second); len(guard.slots) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow evaluation never took the slot")
		}
	}
	waiting, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	_, err := fast.Eval(waiting, ast.NewObject())
	if !errors.Is(err, ErrNoSlot) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want ErrNoSlot and the deadline", err)
	}
	if want := "evaluation of data.p.n did not start: no evaluation slot was free among 1: context deadline exceeded"; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("the slow evaluation was not stopped")
	}
	if rs, err := fast.Eval(context.Background(), ast.NewObject()); err != nil || len(rs) != 1 {
		t.Errorf("once the slot is free: %v, %v", rs, err)
	}
}

func TestDefaultHeapLimit(t *testing.T) {
	for _, tc := range []struct{ memLimit, want int64 }{
		{math.MaxInt64, 2 << 30}, // GOMEMLIMIT unset
		{512 << 20, 384 << 20},   // the install's container limit
	} {
		if got := heapLimitFor(tc.memLimit); got != tc.want {
			t.Errorf("heapLimitFor(%d) = %d, want %d", tc.memLimit, got, tc.want)
		}
	}
}
