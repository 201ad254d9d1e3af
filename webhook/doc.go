// Package webhook is verdict's admission server: it answers AdmissionReviews (admission.k8s.io/v1
// and v1beta1) on POST /validate and /mutate with the decisions of a compiled policy bundle, over TLS,
// on controller-runtime's webhook server and certwatcher. It converts each AdmissionRequest into the
// engine-neutral policies.Request and the bundle's findings and patches back into an
// AdmissionResponse; it knows nothing of which engine decided.
//
// Where the policies come from (files with watching and reload, a cluster with informers) is package
// policies/source: the server serves the set in force of a source.PolicySet, and /readyz fails until
// the first set is compiled (and, with a source.Cluster, until the cluster's policies were read once).
// Requests are bounded (read deadline, body size, bytes in flight) and those that cannot be read get
// a 4xx with a message that says what is wrong; a policy that fails to evaluate, or a panic, denies
// (fails closed), and the API server's failurePolicy governs only what it cannot reach.
package webhook
