// Package e2e holds verdict's end-to-end tests: they run against a real
// kube-apiserver and etcd started by the controlplane package, built from
// source by `make controlplane` into bin/k8s.
//
// Run them with `make test-e2e`, or as part of `make test`. Without the
// binaries they skip, except under CI=true, where they fail.
package e2e
