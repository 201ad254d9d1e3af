// Package audit judges the objects a cluster already holds, as verdict audit does: it lists the
// objects of every kind that some policy of a compiled set takes (discovery and each format's match
// rules, see bundle.Selects), page by page, and judges each as it is listed, as an UPDATE of the
// object to itself (oldObject = object), as Gatekeeper's audit does. Only references to the
// objects are kept, never the objects, so memory grows with the results, not with the cluster.
//
// A Report holds one result per object and policy: a pass for each policy (with its binding) that
// took the object and found nothing, a fail, warn or error for each finding. It is written as a
// table or JSON in the shape of verdict check's report, or as wgpolicyk8s.io/v1alpha2
// PolicyReports (one per namespace) and a ClusterPolicyReport, the format Kyverno writes and
// policy-reporter reads; Apply writes those to the cluster with server-side apply.
//
// It neither reads the policies (package policies/source does) nor evaluates them (the bundle does).
package audit
