// Package vap implements Kubernetes' own admission policies, ValidatingAdmissionPolicy and
// MutatingAdmissionPolicy with their bindings, by embedding the admission-policy packages of
// k8s.io/apiserver that kube-apiserver itself runs: the matcher, the CEL compiler and environment, the
// validator and the mutation patchers. What this package adds is what kube-apiserver gets from its
// informers and API validation: pairing policies with bindings and params from supplied manifests,
// defaulting, and load-time checks that reject what the API server would reject.
//
// Unlike kube-apiserver, which stops at the first denial, the dispatch here records every finding of
// every policy and binding, so that a CI report lists them all; the first denial is the one
// kube-apiserver would return.
package vap
