// Package gatekeeper is the Gatekeeper policy format: ConstraintTemplates (templates.gatekeeper.sh
// v1, v1beta1, v1alpha1) and their constraints (constraints.gatekeeper.sh), with Gatekeeper's
// semantics. It owns what Gatekeeper owns: the constraint match block (kinds, scope, namespaces and
// excludedNamespaces with prefix and suffix globs, labelSelector, namespaceSelector, name), the review
// a template sees (input.review, input.parameters, data.inventory, libraries under data.lib), the
// K8sNativeValidation variables (variables.params, variables.anyObject), which engine judges a template
// that has both, and enforcementAction.
//
// It is not an engine: Rego is compiled and evaluated by policies/rego and CEL by policies/cel. It
// reads no files: policies/bundle and policies/verify give it decoded documents.
package gatekeeper
