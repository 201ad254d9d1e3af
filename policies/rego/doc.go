// Package rego is verdict's Rego engine, on OPA's ast and rego packages: it parses modules (Rego v1,
// or v0 where asked or where v1 fails), refuses builtins that reach outside the evaluation unless the
// operator allows them, warns of builtins that are not deterministic, compiles modules once, prepares
// queries once, and evaluates them against inputs under a deadline, a cap on concurrent evaluations
// and a heap limit (guard.go). It knows nothing of policy formats: policies/regomod and
// policies/gatekeeper build on it.
package rego
