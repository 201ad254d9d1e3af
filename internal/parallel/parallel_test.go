package parallel

import (
	"sync/atomic"
	"testing"
)

func TestEachCallsEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, min int }{{0, 0}, {1, 0}, {5, 10}, {1000, 1}, {1000, 64}} {
		calls := make([]atomic.Int32, tc.n)
		Each(tc.n, tc.min, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if got := calls[i].Load(); got != 1 {
				t.Fatalf("n=%d min=%d: index %d called %d times", tc.n, tc.min, i, got)
			}
		}
	}
}
