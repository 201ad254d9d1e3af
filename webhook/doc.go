// Package webhook is verdict's admission server: it answers AdmissionReviews (admission.k8s.io/v1
// and v1beta1) on POST /validate and /mutate with the decisions of a compiled policy bundle, over TLS,
// on controller-runtime's webhook server and certwatcher. It converts each AdmissionRequest into the
// engine-neutral policies.Request and the bundle's findings and patches back into an
// AdmissionResponse; it knows nothing of which engine decided.
//
// The policy set is swapped atomically on reload (a request sees the old set or the new one, never a
// mix); /readyz fails until the first set is compiled. A reload that would weaken the set in force (no
// policy, a file or Rego package lost) fails like one that does not compile: the set in force keeps
// serving and /readyz says why. Requests are bounded (read deadline, body size, bytes in flight) and
// those that cannot be read get a 4xx with a message that says what is wrong; a policy that fails to
// evaluate, or a panic, denies (fails closed), and the API server's failurePolicy governs only what it
// cannot reach.
//
// With a ClusterSource (verdict serve --kubeconfig or --from-cluster), the set also holds the
// admission policies, Gatekeeper templates and constraints the cluster stores, with its Namespaces,
// params and data.inventory read from a controller-runtime cache, and is loaded again when they change.
package webhook
