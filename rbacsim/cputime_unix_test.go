//go:build unix

package rbacsim

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time of the process so far, so that benchmarks can report
// CPU time per operation, which other load on the machine does not inflate.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
