// Command verdict is a Kubernetes policy tool: an admission webhook server, a CI policy checker and an
// offline RBAC simulator in one binary. This package only declares flags and wires the library packages.
package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target when GOGC is not set. Policy evaluation (CEL above
// all) allocates many short-lived values over a small live heap, so collecting a quarter as often
// costs little memory and saves a fifth of the CPU; GOGC and GOMEMLIMIT still override it.
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], defaultStreams()))
}
