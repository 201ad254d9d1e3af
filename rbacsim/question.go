package rbacsim

import (
	"fmt"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Question is what `kubectl auth can-i` and who-can ask: VERB TYPE[/NAME] or VERB NONRESOURCEURL.
type Question struct {
	Verb string
	// Type is TYPE[/NAME] as kubectl takes it: a resource, its short name, singular or kind, with or
	// without its group (pods, deploy, deployments.apps, Deployment.v1.apps), and an optional name.
	Type string
	// NonResourceURL is a path such as /healthz, instead of Type.
	NonResourceURL string
	Subresource    string
	// Namespace is the request's namespace; empty is a request in no namespace.
	Namespace string
	// AllNamespaces asks who-can about every namespace: each RoleBinding counts in its own.
	AllNamespaces bool
}

// Attributes resolves the question for u as kubectl auth can-i does and returns the request the
// API server would authorize, with the warnings kubectl prints about it: an unknown type or verb,
// a namespace given for a cluster-scoped resource.
func (m *Model) Attributes(u user.Info, q Question) (authorizer.AttributesRecord, []string) {
	attrs := authorizer.AttributesRecord{User: u, Verb: q.Verb}
	var warnings []string
	if q.NonResourceURL != "" {
		attrs.Path = q.NonResourceURL
		if !KnownNonResourceVerbs[q.Verb] {
			warnings = append(warnings, fmt.Sprintf("verb '%s' is not a known verb", q.Verb))
		}
		return attrs, warnings
	}
	r, name := m.resolveType(q.Type)
	if r.Warning != "" {
		warnings = append(warnings, r.Warning)
	}
	attrs.ResourceRequest = true
	attrs.APIGroup, attrs.Resource, attrs.Name = r.Group, r.Resource, name
	attrs.Subresource, attrs.Namespace = q.Subresource, q.Namespace
	if q.Namespace != "" && r.Info != nil && !r.Info.Namespaced {
		if r.Group == "" {
			warnings = append(warnings, fmt.Sprintf("resource '%s' is not namespace scoped", r.Resource))
		} else {
			warnings = append(warnings, fmt.Sprintf("resource '%s' is not namespace scoped in group '%s'", r.Resource, r.Group))
		}
	}
	if !KnownResourceVerbs[q.Verb] {
		warnings = append(warnings, fmt.Sprintf("verb '%s' is not a known verb", q.Verb))
	}
	return attrs, warnings
}

// resolveType resolves TYPE[/NAME] with the model's resources.
func (m *Model) resolveType(arg string) (Resolution, string) {
	typ, name, _ := strings.Cut(arg, "/")
	return m.Resolver().Resolve(typ), name
}
