// Package controlplane starts a real kube-apiserver and etcd for end-to-end
// tests, with controller-runtime's envtest, and stops them when the test ends.
//
// The binaries are the ones `make controlplane` builds from source into
// bin/k8s at the repository root (KUBEBUILDER_ASSETS, as envtest reads it,
// names another folder). When they are missing a test skips, saying how to
// build them; under CI=true it fails instead, so that CI never passes by
// skipping the real cluster.
//
// It is for tests only: it knows nothing of verdict's policies or webhook, and
// it runs no controllers (no kube-controller-manager, no scheduler, no nodes):
// objects are stored and admitted, Pods are never run. Service accounts'
// tokens are not issued either, as envtest disables that admission plugin.
//
// controller-runtime logs through a global logger that wants to be set once per
// test binary; this package leaves that to the test's TestMain.
package controlplane
