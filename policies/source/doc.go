// Package source is where a policy set comes from: the policy files (or the embedded library) and,
// optionally, the cluster. It compiles them into one policies/bundle.Bundle and keeps it current.
//
// PolicySet holds the set in force and swaps it atomically on reload (a reader sees the old set or
// the new one, never a mix). Watch reloads it when its files change; a reload that does not compile,
// or that would weaken the set in force (no policy, a file or Rego package lost), keeps the set in
// force and says why (ReloadError). A LoadObserver is told of every load: the webhook's metrics.
//
// Cluster keeps the set in step with a cluster through a controller-runtime cache: the admission
// policies and bindings, Gatekeeper ConstraintTemplates and constraints the API server serves, with
// its Namespaces, params and the kinds Gatekeeper templates see in data.inventory. A cluster policy
// that does not compile is left out and logged; the rest are put in force.
//
// It is not the admission server (package webhook serves the set in force) and it judges nothing:
// evaluation is the bundle's.
package source
