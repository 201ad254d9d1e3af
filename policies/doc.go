// Package policies is verdict's engine-neutral policy model: the admission request a policy judges
// (Request, read from an AdmissionRequest by FromAdmissionRequest), what it says about it (Finding, Outcome, with the pairs of policy and binding that judged
// it, Ref), the objects policies may read besides the request (Store: namespaces, params, inventory),
// and the interfaces that each policy format implements. Each format also tells which of its
// policies take a kind of object (Resource), so that verdict audit lists only those kinds.
//
// Formats (policies/vap, policies/gatekeeper, policies/regomod) compile their documents once into values
// that satisfy Validator (those that mutate also have a Mutate method); policies/bundle loads files into
// a compiled, immutable Bundle. The engines themselves (policies/cel, policies/rego) know nothing of
// formats.
package policies
