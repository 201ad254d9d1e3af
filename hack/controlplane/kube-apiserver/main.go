// Command kube-apiserver is the Kubernetes API server, built from the
// k8s.io/kubernetes module at the version pinned in go.mod, for verdict's
// end-to-end tests (envtest). Its version strings are set at link time by the
// Makefile's controlplane target.
//
// It is a tool, not part of verdict: this module has its own go.mod so that
// the main module never depends on k8s.io/kubernetes.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as the upstream main embeds them

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // the version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
