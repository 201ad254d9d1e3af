// Package library is verdict's embedded default policy set, used when no --policies are given: the
// Pod Security Standards baseline and restricted profiles as ValidatingAdmissionPolicies, and a few
// common best practices. The policies are plain files under policies/, read like any other.
package library

import "embed"

// FS holds the default policies under the folder "policies".
//
//go:embed policies
var files embed.FS

// FS is the library's policy files.
var FS = mustSub(files, "policies")
