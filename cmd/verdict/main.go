// Command verdict is a Kubernetes policy tool: an admission webhook server, a CI policy checker and an
// offline RBAC simulator in one binary. This package only declares flags and wires the library packages.
package main

import (
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/verdict-dev/verdict/internal/gctune"
)

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		// Policy evaluation (CEL above all) allocates many short-lived values over a small live
		// heap: collecting a quarter as often costs little memory and saves a fifth of the CPU.
		// Commands other than serve then follow their live heap (tuneGC); GOGC and GOMEMLIMIT
		// override both.
		debug.SetGCPercent(gctune.Max)
	}
	os.Exit(run(os.Args[1:], defaultStreams()))
}

// tuneGC lowers the collector's target as the live heap grows, for the commands that judge
// manifests they hold (check, mutate, verify, simulate, audit of many thousand objects): their
// peak memory follows the live heap, not five times it. serve keeps GOGC=400 over its small live
// heap (its install sets GOMEMLIMIT), and the rbac commands too: their cost is the garbage of
// loading, for a model that is read, not grown.
func tuneGC(cmd *cobra.Command) {
	_, gogc := os.LookupEnv("GOGC")
	_, memlimit := os.LookupEnv("GOMEMLIMIT")
	if !gogc && !memlimit && followsLiveHeap(cmd) {
		gctune.Follow()
	}
}

func followsLiveHeap(cmd *cobra.Command) bool {
	top := cmd
	for top.HasParent() && top.Parent().HasParent() {
		top = top.Parent()
	}
	return top.Name() != "serve" && top.Name() != "rbac"
}
