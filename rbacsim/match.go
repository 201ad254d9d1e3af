package rbacsim

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// request is the part of authorizer.Attributes that RBAC rules look at.
type request struct {
	resourceRequest bool
	verb            string
	group           string
	resource        string
	subresource     string
	name            string
	path            string
	verbBit         uint32 // requestVerbBit(verb)
}

func requestFrom(a authorizer.Attributes) request {
	verb := a.GetVerb()
	if !a.IsResourceRequest() {
		return request{verb: verb, path: a.GetPath(), verbBit: requestVerbBit(verb)}
	}
	return request{resourceRequest: true, verb: verb, group: a.GetAPIGroup(),
		resource: a.GetResource(), subresource: a.GetSubresource(), name: a.GetName(), verbBit: requestVerbBit(verb)}
}

// ruleAllows is the RBAC authorizer's rule check: verb, API group, resource (with subresource), and
// resource name for resource requests; verb and URL for the others.
func ruleAllows(r *request, rule *rbacv1.PolicyRule) bool {
	if !verbMatches(rule, r.verb) {
		return false
	}
	if !r.resourceRequest {
		return urlMatches(rule, r.path)
	}
	return groupMatches(rule, r.group) && resourceMatches(rule, r.resource, r.subresource) && nameMatches(rule, r.name)
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	for _, v := range rule.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func groupMatches(rule *rbacv1.PolicyRule, group string) bool {
	for _, g := range rule.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// resourceMatches accepts "*", the exact "resource" or "resource/subresource", and "*/subresource" when
// a subresource is requested. "resource/*" is not a wildcard (kube-apiserver refuses to make it one).
func resourceMatches(rule *rbacv1.PolicyRule, resource, subresource string) bool {
	for _, rr := range rule.Resources {
		if rr == rbacv1.ResourceAll {
			return true
		}
		if subresource == "" {
			if rr == resource {
				return true
			}
			continue
		}
		// rr == resource + "/" + subresource, without building the string
		if len(rr) == len(resource)+1+len(subresource) && rr[len(resource)] == '/' &&
			rr[:len(resource)] == resource && rr[len(resource)+1:] == subresource {
			return true
		}
		if len(rr) == len(subresource)+2 && rr[0] == '*' && rr[1] == '/' && rr[2:] == subresource {
			return true
		}
	}
	return false
}

// nameMatches: a rule without resourceNames matches any name; one with them matches only those names,
// so never a request without a name (list, create, deletecollection, watch of a collection).
func nameMatches(rule *rbacv1.PolicyRule, name string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, n := range rule.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

// urlMatches accepts "*", the exact path, and a prefix ending in "*".
func urlMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimRight(u, "*")) {
			return true
		}
	}
	return false
}
