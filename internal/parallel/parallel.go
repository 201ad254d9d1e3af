// Package parallel runs independent pieces of work on every core. Callers keep the order of their
// results by writing each into its own slot, so that nothing downstream depends on scheduling.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Each calls do(i) for every i in [0, n), on up to GOMAXPROCS goroutines, and returns when all
// calls have returned. Below min items it runs them on the calling goroutine, where starting
// goroutines would cost more than it saves.
func Each(n, min int, do func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < min || n < 2 || workers == 1 {
		for i := 0; i < n; i++ {
			do(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}
