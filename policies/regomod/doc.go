// Package regomod implements plain Rego modules as policies, in the style of conftest: every package
// with rules named deny, violation or warn (or with a "_suffix", as conftest matches them) is a policy
// over input = the object itself (the old object on DELETE), so that a conftest policy runs unchanged
// in CI and as an admission policy. Messages are strings or objects with a "msg" key; conftest's
// exception rules exempt inputs from named rules. Packages named kubernetes.admission, after OPA's
// admission tutorial, see the whole AdmissionReview as input instead. Rules named patch mutate: each
// value is an RFC 6902 operation (or a list of them).
package regomod
