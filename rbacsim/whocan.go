package rbacsim

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is a resource request without a user, for WhoCan.
type Request struct {
	Verb        string
	Group       string
	Resource    string
	Subresource string
	Name        string
	// Namespace is the request's namespace; empty is a cluster-wide request.
	Namespace string
	// AllNamespaces asks about every namespace: each RoleBinding counts in its own namespace.
	AllNamespaces bool
}

// Grant is one subject of one binding that grants a request.
type Grant struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Binding   string `json:"binding"`
	Role      string `json:"role"`
}

// WhoCan lists every subject named in a binding that grants the request: the ClusterRoleBindings and the
// RoleBindings of the request's namespace (of every namespace with AllNamespaces). A ServiceAccount
// subject without a namespace takes its RoleBinding's. Groups are listed as groups; system:masters only
// where a binding names it. The list is sorted by kind, namespace, name and binding.
func (m *Model) WhoCan(r Request) []Grant {
	req := request{resourceRequest: true, verb: r.Verb, group: r.Group, resource: r.Resource, subresource: r.Subresource, name: r.Name}
	allows := map[*Role]bool{}
	roleAllows := func(role *Role) bool {
		if v, ok := allows[role]; ok {
			return v
		}
		v := false
		for i := range role.Rules {
			if ruleAllows(&req, &role.Rules[i]) {
				v = true
				break
			}
		}
		allows[role] = v
		return v
	}
	var out []Grant
	consider := func(b *Binding) {
		if b.Role == nil || !roleAllows(b.Role) {
			return
		}
		seen := map[Grant]bool{}
		for _, s := range b.Subjects {
			g := Grant{Kind: s.Kind, Name: s.Name, Binding: b.String(), Role: b.RoleRefString()}
			if s.Kind == rbacv1.ServiceAccountKind {
				g.Namespace = s.Namespace
				if g.Namespace == "" {
					g.Namespace = b.Namespace
				}
				if g.Namespace == "" {
					continue // matches nobody
				}
			}
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	for _, b := range m.cluster.all {
		consider(b)
	}
	switch {
	case r.AllNamespaces:
		for _, b := range m.bindings {
			if b.Kind == "RoleBinding" {
				consider(b)
			}
		}
	case r.Namespace != "":
		if idx := m.namespaced[r.Namespace]; idx != nil {
			for _, b := range idx.all {
				consider(b)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Binding < b.Binding
	})
	return out
}
