package controlplane

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// AggregationBinary is the ClusterRole aggregation controller that `make rbac-aggregator` builds
// into the binary folder (bin/k8s) from the tools module in ./aggregator.
const AggregationBinary = "clusterrole-aggregation"

// StartAggregation runs kube-controller-manager's ClusterRole aggregation controller against the
// control plane until t's test ends, so that ClusterRoles with an aggregationRule get their rules as
// in a real cluster (envtest runs no controller-manager). It skips t when the binary has not been
// built, and fails it under CI=true.
func (e *Env) StartAggregation(t testing.TB) {
	t.Helper()
	dir, err := binaryDir()
	if err != nil {
		t.Fatalf("finding the control plane binaries: %v", err)
	}
	path := filepath.Join(dir, AggregationBinary)
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		msg := AggregationBinary + " missing from " + dir + ": run `make rbac-aggregator` to build it"
		if inCI() {
			t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	out := &tailBuffer{max: outputTailLength}
	cmd := exec.Command(path, "--kubeconfig", e.Kubeconfig)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", AggregationBinary, out)
		}
	})
}
