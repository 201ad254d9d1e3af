package rbacsim

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// riskyProbe is a request that widens what its user can reach. An empty verb stands for any verb.
type riskyProbe struct {
	verbs                   []string
	group, resource, subres string
}

// riskyProbes are the requests that reach further permissions: read secrets (service-account tokens
// among them), run pods or workloads (as any service account of the namespace), get a service
// account's token, reach a node's or a pod's credentials, and take over admission or certificate
// approval. The verbs bind, escalate and impersonate are risky on any resource (see RiskyRule).
var riskyProbes = []riskyProbe{
	{verbs: []string{"get", "list", "watch"}, resource: "secrets"},
	{verbs: []string{"create"}, resource: "pods"},
	{verbs: []string{"create"}, resource: "replicationcontrollers"},
	{verbs: []string{"create"}, group: "apps", resource: "deployments"},
	{verbs: []string{"create"}, group: "apps", resource: "replicasets"},
	{verbs: []string{"create"}, group: "apps", resource: "statefulsets"},
	{verbs: []string{"create"}, group: "apps", resource: "daemonsets"},
	{verbs: []string{"create"}, group: "batch", resource: "jobs"},
	{verbs: []string{"create"}, group: "batch", resource: "cronjobs"},
	{verbs: []string{"create"}, resource: "serviceaccounts", subres: "token"},
	{resource: "nodes", subres: "proxy"},
	{resource: "pods", subres: "exec"},
	{resource: "pods", subres: "attach"},
	{resource: "pods", subres: "portforward"},
	{resource: "pods", subres: "ephemeralcontainers"},
	{verbs: []string{"create", "update", "patch", "delete", "deletecollection"}, group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations"},
	{verbs: []string{"create", "update", "patch", "delete", "deletecollection"}, group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations"},
	{verbs: []string{"update", "patch"}, group: "certificates.k8s.io", resource: "certificatesigningrequests", subres: "approval"},
	{verbs: []string{"approve"}, group: "certificates.k8s.io", resource: "signers"},
}

// RiskyRule says whether a broken-down rule (one verb, API group, resource, name or URL) widens what
// its subject can reach: it allows one of the risky requests (read of secrets, create of pods or
// workloads, create of serviceaccounts/token, nodes/proxy, pods/exec, attach, portforward and
// ephemeralcontainers, writes to admission webhook configurations, approval of certificate signing
// requests), it has the verb bind, escalate or impersonate, or it has a wildcard ("*" as verb, API
// group, resource or URL, or "*/subresource").
func RiskyRule(r rbacv1.PolicyRule) bool {
	for _, v := range r.Verbs {
		switch v {
		case rbacv1.VerbAll, "bind", "escalate", "impersonate":
			return true
		}
	}
	for _, u := range r.NonResourceURLs {
		if u == rbacv1.NonResourceAll {
			return true
		}
	}
	for _, g := range r.APIGroups {
		if g == rbacv1.APIGroupAll {
			return true
		}
	}
	for _, res := range r.Resources {
		if res == rbacv1.ResourceAll || strings.HasPrefix(res, "*/") {
			return true
		}
	}
	if len(r.Resources) == 0 {
		return false
	}
	name := ""
	if len(r.ResourceNames) > 0 {
		name = r.ResourceNames[0]
	}
	for _, p := range riskyProbes {
		verbs := p.verbs
		if verbs == nil {
			verbs = r.Verbs
		}
		for _, v := range verbs {
			req := request{resourceRequest: true, verb: v, group: p.group, resource: p.resource, subresource: p.subres, name: name}
			if ruleAllows(&req, &r) {
				return true
			}
		}
	}
	return false
}
