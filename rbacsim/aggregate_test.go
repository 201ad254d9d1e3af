package rbacsim

import (
	"fmt"
	"strings"
	"testing"
)

func clusterRole(name string, labels map[string]string, aggregateFrom []string, rules ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %s\n", name)
	if len(labels) > 0 {
		b.WriteString("  labels:\n")
		for k, v := range labels {
			fmt.Fprintf(&b, "    %s: %q\n", k, v)
		}
	}
	if aggregateFrom != nil {
		b.WriteString("aggregationRule:\n  clusterRoleSelectors:\n")
		for _, sel := range aggregateFrom {
			fmt.Fprintf(&b, "  - %s\n", sel)
		}
	}
	if len(rules) > 0 {
		b.WriteString("rules:\n")
		for _, r := range rules {
			fmt.Fprintf(&b, "- %s\n", r)
		}
	}
	return b.String()
}

func TestAggregation(t *testing.T) {
	manifests := clusterRole("admin", nil, []string{`matchLabels: {agg/admin: "true"}`}, `{apiGroups: [""], resources: [ignored], verbs: [get]}`) +
		clusterRole("edit", map[string]string{"agg/admin": "true"}, []string{`matchLabels: {agg/edit: "true"}`}) +
		clusterRole("view", map[string]string{"agg/edit": "true"}, []string{`matchLabels: {agg/view: "true"}`}) +
		clusterRole("to-view", map[string]string{"agg/view": "true"}, nil, `{apiGroups: [""], resources: [pods], verbs: [get]}`) +
		clusterRole("to-edit", map[string]string{"agg/edit": "true"}, nil, `{apiGroups: [""], resources: [pods], verbs: [create]}`, `{apiGroups: [""], resources: [pods], verbs: [get]}`) +
		clusterRole("to-admin-expr", map[string]string{"tier": "admin"}, nil, `{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [create]}`) +
		clusterRole("expr", nil, []string{`matchExpressions: [{key: tier, operator: In, values: [admin, ops]}]`}) +
		clusterRole("everything", nil, []string{`{}`}) +
		clusterRole("bad-selector", nil, []string{`matchExpressions: [{key: tier, operator: Bogus}]`}, `{apiGroups: [""], resources: [kept], verbs: [get]}`)
	objs, err := Parse("agg.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(objs)

	rules := func(name string) string {
		r := m.ClusterRole(name)
		var parts []string
		for i, rule := range r.Rules {
			origin := ""
			if r.RuleOrigins != nil {
				origin = "<" + r.RuleOrigins[i]
			}
			parts = append(parts, fmt.Sprintf("%s %s%s", strings.Join(rule.Verbs, ","), strings.Join(rule.Resources, ","), origin))
		}
		return strings.Join(parts, "; ")
	}
	tests := []struct{ role, want string }{
		// view gets to-view's rule; edit gets view's (aggregated) and to-edit's without the duplicate;
		// admin's own rules are replaced by edit's.
		{"view", "get pods<to-view"},
		{"edit", "create pods<to-edit; get pods<to-edit"},
		{"admin", "create pods<to-edit; get pods<to-edit"},
		{"expr", "create roles<to-admin-expr"},
		{"bad-selector", "get kept"},
		{"to-view", "get pods"},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			if got := rules(tt.role); got != tt.want {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
		})
	}
	// An empty selector matches every other ClusterRole.
	if got := rules("everything"); !strings.Contains(got, "get kept") || !strings.Contains(got, "create roles") {
		t.Errorf("everything = %q, want the rules of all other roles", got)
	}
	found := false
	for _, n := range m.Notes() {
		if strings.Contains(n, "bad-selector") && strings.Contains(n, "clusterRoleSelectors[0]") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note about the bad selector in %q", m.Notes())
	}
}

func TestAggregationCycleSettles(t *testing.T) {
	manifests := clusterRole("a", map[string]string{"to-b": "true"}, []string{`matchLabels: {to-a: "true"}`}) +
		clusterRole("b", map[string]string{"to-a": "true"}, []string{`matchLabels: {to-b: "true"}`}) +
		clusterRole("leaf", map[string]string{"to-a": "true"}, nil, `{apiGroups: [""], resources: [pods], verbs: [get]}`)
	m := modelFrom(t, manifests)
	// a = rules(b) ∪ rules(leaf); b = rules(a): both end with get pods.
	for _, name := range []string{"a", "b"} {
		r := m.ClusterRole(name)
		if len(r.Rules) != 1 || r.Rules[0].Resources[0] != "pods" {
			t.Errorf("%s rules = %v, want [get pods]", name, r.Rules)
		}
	}
}

func TestAggregatedRoleAuthorizes(t *testing.T) {
	m := modelFrom(t, clusterRole("agg", nil, []string{`matchLabels: {x: "y"}`})+
		clusterRole("part", map[string]string{"x": "y"}, nil, `{apiGroups: [apps], resources: [deployments], verbs: [list]}`)+`
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg}
subjects: [{kind: User, name: u, apiGroup: rbac.authorization.k8s.io}]
`)
	ok, reason := allowed(t, m, resourceAttrs("u", nil, "list", "apps", "deployments", "", "ns", ""))
	want := "RBAC: allowed by RoleBinding ns/b of ClusterRole agg rule #1 (aggregated from ClusterRole part)"
	if !ok || reason != want {
		t.Errorf("got %v %q, want allowed %q", ok, reason, want)
	}
}

// The aggregation controller server-side applies the union of the selected rules; an empty union is
// an apply without rules, which leaves the rules the role was created with. Found by the parity test
// against kube-controller-manager's controller (test/e2e/rbac_parity_test.go).
func TestAggregationOfNothingKeepsWrittenRules(t *testing.T) {
	m := modelFrom(t, clusterRole("selects-nothing", map[string]string{"chain": "true"}, []string{`matchLabels: {nothing: "here"}`}, `{apiGroups: [""], resources: [secrets], verbs: [get]}`)+
		clusterRole("selects-empty", nil, []string{`matchLabels: {empty: "true"}`}, `{apiGroups: [""], resources: [pods], verbs: [list]}`)+
		clusterRole("empty", map[string]string{"empty": "true"}, nil)+
		clusterRole("chained", nil, []string{`matchLabels: {chain: "true"}`})+
		clusterRole("bare", nil, []string{`matchLabels: {nothing: "here"}`})+
		clusterRole("selects-some", nil, []string{`matchLabels: {some: "true"}`}, `{apiGroups: [""], resources: [replaced], verbs: [get]}`)+
		clusterRole("some", map[string]string{"some": "true"}, nil, `{apiGroups: [""], resources: [nodes], verbs: [watch]}`))
	tests := []struct{ role, want string }{
		{"selects-nothing", "get secrets"},
		{"selects-empty", "list pods"},
		{"chained", "get secrets<selects-nothing"},
		{"bare", ""},
		{"selects-some", "watch nodes<some"},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			r := m.ClusterRole(tt.role)
			var parts []string
			for i, rule := range r.Rules {
				p := strings.Join(rule.Verbs, ",") + " " + strings.Join(rule.Resources, ",")
				if r.RuleOrigins != nil {
					p += "<" + r.RuleOrigins[i]
				}
				parts = append(parts, p)
			}
			if got := strings.Join(parts, "; "); got != tt.want {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
		})
	}
}
