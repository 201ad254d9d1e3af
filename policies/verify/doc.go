// Package verify runs policy unit tests (`verdict verify`): Gatekeeper Suite files
// (test.gatekeeper.sh/v1alpha1) with the semantics of `gator verify`, and verdict's own Suite files
// (verdict.dev/v1alpha1) for ValidatingAdmissionPolicies and plain Rego. It finds suites, runs every
// case, and reports one result per case as text, JSON or JUnit.
//
// Objects are judged exactly as written, as gator judges them: no namespace is filled in and a plain
// manifest is reviewed without an operation. Where a ConstraintTemplate has both a Rego and a
// K8sNativeValidation block, each case runs under both engines and a disagreement fails the case.
//
// It is not a policy engine: templates are compiled by policies/gatekeeper, other policies by
// policies/bundle.
package verify
