// Package test holds verdict's tests that span the repository: the install manifests under config/
// and the layout of the code (functions that read in one screen) here, the end-to-end tests against
// a real control plane in test/e2e. Its one non-test function, WithComponents, is the copy of
// config/ with optional components that both render.
package test
