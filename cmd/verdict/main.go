// Command verdict is a Kubernetes policy tool: an admission webhook server, a CI policy checker and an
// offline RBAC simulator in one binary. This package only declares flags and wires the library packages.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], defaultStreams()))
}
