//go:build tools

// Package kyverno pins the Kyverno CLI that `make compare` builds, for the comparisons of
// docs/performance.md. It is a tool, not part of verdict: this module has its own go.mod (with the
// replace directive Kyverno's own go.mod carries, which `go install pkg@version` refuses).
package kyverno

import _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
