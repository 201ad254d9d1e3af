// Package rbacsim is an offline simulator of the kube-apiserver RBAC authorizer.
//
// It loads Role, ClusterRole, RoleBinding and ClusterRoleBinding manifests (and the
// CustomResourceDefinitions among them, for type resolution) into an immutable, indexed Model, and
// answers the questions kubectl asks of a live cluster: can a user do this (Authorize, with the
// semantics of plugin/pkg/auth/authorizer/rbac and the system:masters privileged group), which rules
// does a user hold in a namespace (RulesReview: the API server's own SelfSubjectRulesReview storage
// and rule resolver over the model, printed as kubectl auth can-i --list by kubectl's own code in
// WriteAccessList), who can do this (WhoCan), and why or why not (Explain). ParseRequest turns a raw
// API request line into the attributes the API server authorizes, through the API server's own
// request info resolver, and Replay decides the requests of an audit log again. It also compares two
// sets of objects, subject by subject (Diff), and lists the requests by which a subject's permissions
// reach further permissions (Escalations).
//
// ClusterRole aggregation is resolved at load time as the clusterrole-aggregation controller converges,
// and impersonated users get the groups that the API server's impersonation filter gives them
// (Impersonate). Rules are numbered from 1 in reasons ("RoleBinding team-a/ci of ClusterRole edit
// rule #2" is the second entry of the role's rules, after aggregation).
//
// It is not an authorizer for a running server, it does not talk to a cluster (package rbacsim/cluster
// reads one into Objects for --kubeconfig), and it does not model the other authorizers of a cluster
// (Node, webhooks, ABAC): only RBAC and system:masters.
package rbacsim
