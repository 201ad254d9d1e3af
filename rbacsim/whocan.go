package rbacsim

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	rbacv1 "k8s.io/api/rbac/v1"
)

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
// where a binding names it. The list is sorted by kind, namespace, name and binding. The question's
// type is resolved as can-i resolves it; the warnings are the resolver's, as kubectl prints them.
func (m *Model) WhoCan(q Question) ([]Grant, []string) {
	r, name := m.resolveType(q.Type)
	var warnings []string
	if r.Warning != "" {
		warnings = append(warnings, r.Warning)
	}
	return m.whoCan(request{resourceRequest: true, verb: q.Verb, group: r.Group, resource: r.Resource, subresource: q.Subresource, name: name}, q), warnings
}

func (m *Model) whoCan(req request, q Question) []Grant {
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
	case q.AllNamespaces:
		for _, b := range m.bindings {
			if b.Kind == "RoleBinding" {
				consider(b)
			}
		}
	case q.Namespace != "":
		if idx := m.namespaced[q.Namespace]; idx != nil {
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

// WriteWhoCanTable prints who-can's table: one line per subject and binding.
func WriteWhoCanTable(w io.Writer, grants []Grant) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tBINDING\tROLE")
	for _, g := range grants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Kind, g.Namespace, g.Name, g.Binding, g.Role)
	}
	return tw.Flush()
}
