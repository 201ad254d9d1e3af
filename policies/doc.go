// Package policies is verdict's engine-neutral policy model: the admission request a policy judges
// (Request), what it says about it (Finding, Outcome), the objects policies may read besides the
// request (Store: namespaces, params, inventory), and the interfaces that each policy format implements.
//
// Formats (policies/vap, policies/gatekeeper, policies/regomod) compile their documents once into values
// that satisfy Validator (those that mutate also have a Mutate method); policies/bundle loads files into
// a compiled, immutable Bundle. The engines themselves (policies/cel, policies/rego) know nothing of
// formats.
package policies
