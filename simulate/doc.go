// Package simulate answers what a kube-apiserver would do with one user's `kubectl apply`, with no
// cluster: the request flow of the API server, object by object, in input order.
//
// For each object it makes the requests kubectl sends (client-side apply: GET, then POST for a new
// object or PATCH for one that exists; server-side apply: one apply PATCH, with the API server's
// extra create check when the patch creates the object), turns each into authorization attributes
// through the API server's own request info code (rbacsim.ParseRequest) and decides it with
// kube-apiserver's authorizer over the RBAC objects (rbacsim.Model.APIServerAuthorizer). An accepted
// request then goes through the stages of the API server in their order: the built-in mutating
// admission plugins, the mutating policies (policies/bundle), the RBAC storage's escalation check
// for Roles and bindings, the object validation of the kind's registry strategy, the built-in
// validating admission plugins, the validating policies, and last the ResourceQuota plugin. The
// first stage that refuses the request stops the object, with the API server's error worded as
// kubectl prints it.
//
// A custom resource whose CRD is in the simulated cluster is served as the API server serves it
// (k8s.io/apiextensions-apiserver): decoded by the CRD's structural schema (undeclared fields are
// an error under kubectl's strict field validation, then pruned; defaults filled in), validated by
// the customresource registry strategy (the OpenAPI schema, x-kubernetes-validations CEL rules),
// and pruned again as the storage encodes it.
//
// The built-in plugins are kube-apiserver's own (k8s.io/kubernetes/plugin/pkg/admission and
// k8s.io/apiserver's NamespaceLifecycle), initialized as the API server initializes them, over a fake
// clientset and informers that hold the --existing objects and what the run created so far. Objects
// that the run accepts take effect for the objects after them: a Namespace created earlier exists,
// an RBAC object created earlier grants what it grants, and what ResourceQuota admitted counts
// against the namespace's quotas (the plugin writes their status.used, as in the API server). A
// ResourceQuota of --existing without a status gets the one kube-controller-manager's quota
// controller would write first; one that the run creates has none, and limits nothing, as in the
// API server until that controller has counted.
//
// It is not a cluster: nothing runs between requests (no controllers, no garbage collection), the
// API server's other default plugins that act only on kinds or fields outside this simulation are
// not run, and webhooks other than verdict's own policies are not called.
package simulate
