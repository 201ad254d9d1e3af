// Command kubectl is kubectl, built from the k8s.io/kubectl module at the version of the control plane
// (go.mod), for verdict's end-to-end tests: the simulate differential test applies manifests with it
// as impersonated users. Its version strings are set at link time by the Makefile's controlplane target.
//
// It is a tool, not part of verdict: this module has its own go.mod. main is upstream's
// k8s.io/kubernetes/cmd/kubectl, which cannot be imported (it is a main package).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
