package rbacsim

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// accessList is `verdict rbac can-i --list`: the rules review of u in namespace, printed by kubectl.
func accessList(t *testing.T, m *Model, u user.Info, namespace string) (table, warnings, evaluationError string) {
	t.Helper()
	review, err := m.RulesReview(context.Background(), u, namespace)
	if err != nil {
		t.Fatalf("RulesReview: %v", err)
	}
	if review.Status.Incomplete {
		t.Errorf("RBAC alone never makes an incomplete review")
	}
	var out, errOut strings.Builder
	if err := WriteAccessList(&out, &errOut, review.Status, false); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), review.Status.EvaluationError
}

func TestRulesForList(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	u := &user.DefaultInfo{Name: "system:serviceaccount:ops:monitor", Groups: []string{"dev"}}
	rules, errs := m.RulesFor(u, "team-a")
	if len(errs) != 0 {
		t.Errorf("errs = %v", errs)
	}
	if len(rules) == 0 {
		t.Errorf("no rules")
	}
	table, warnings, evalErr := accessList(t, m, u, "team-a")
	golden(t, "list-monitor-team-a.txt", table)
	if warnings != "" || evalErr != "" {
		t.Errorf("warnings %q, evaluationError %q", warnings, evalErr)
	}

	_, errs = m.RulesFor(&user.DefaultInfo{Name: "bob"}, "team-a")
	if len(errs) != 1 {
		t.Errorf("bob's errs = %v, want the missing role", errs)
	}
	_, warnings, evalErr = accessList(t, m, &user.DefaultInfo{Name: "bob"}, "team-a")
	if want := `role.rbac.authorization.k8s.io "gone" not found`; evalErr != want || warnings != "" {
		t.Errorf("bob: evaluationError %q, warnings %q; want %q and no warning (kubectl warns only when incomplete)", evalErr, warnings, want)
	}
}

func crb(name, role string, subjects ...string) string {
	return "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: " + name + "}\n" +
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + role + "}\nsubjects:\n- " +
		strings.Join(subjects, "\n- ") + "\n"
}

func rb(namespace, name, kind, role string, subjects ...string) string {
	return "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {namespace: " + namespace + ", name: " + name + "}\n" +
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: " + kind + ", name: " + role + "}\nsubjects:\n- " +
		strings.Join(subjects, "\n- ") + "\n"
}

const (
	alice = "{kind: User, apiGroup: rbac.authorization.k8s.io, name: alice}"
	devs  = "{kind: Group, apiGroup: rbac.authorization.k8s.io, name: dev}"
)

// TestAccessListAsKubectl pins what kubectl's printing and the API server's resolver do with rules
// of several bindings: each binding's role whole, bindings by name, verbs of one resource merged in
// that order without repeats, non-resource rows never merged.
func TestAccessListAsKubectl(t *testing.T) {
	tests := []struct {
		name      string
		manifests string
		user      *user.DefaultInfo
		namespace string
		want      string
	}{
		{
			name: "verbs of one resource from two bindings, in binding name order, once each",
			manifests: clusterRole("b-role", nil, nil, `{verbs: [list, create], apiGroups: [""], resources: [pods/exec]}`) +
				clusterRole("a-role", nil, nil, `{verbs: [create], apiGroups: [""], resources: [pods/exec]}`) +
				crb("z", "b-role", alice) + crb("a", "a-role", alice),
			user: &user.DefaultInfo{Name: "alice"},
			want: `
Resources   Non-Resource URLs   Resource Names   Verbs
pods/exec   []                  []               [create list]
`,
		},
		{
			name: "the same role bound twice lists its non-resource rules twice",
			manifests: clusterRole("disc", nil, nil, `{verbs: [get], nonResourceURLs: [/api, /logs/*]}`) +
				crb("one", "disc", alice) + crb("two", "disc", devs),
			user: &user.DefaultInfo{Name: "alice", Groups: []string{"dev"}},
			want: `
Resources   Non-Resource URLs   Resource Names   Verbs
            [/api]              []               [get]
            [/api]              []               [get]
            [/logs/*]           []               [get]
            [/logs/*]           []               [get]
`,
		},
		{
			name: "a binding that names the user twice applies once",
			manifests: clusterRole("disc", nil, nil, `{verbs: [get], nonResourceURLs: [/api]}`) +
				crb("one", "disc", alice, devs),
			user: &user.DefaultInfo{Name: "alice", Groups: []string{"dev"}},
			want: `
Resources   Non-Resource URLs   Resource Names   Verbs
            [/api]              []               [get]
`,
		},
		{
			name: "a wildcard resource with a subresource, a group and a name",
			manifests: clusterRole("scale", nil, nil, `{verbs: [list], apiGroups: [rbac.authorization.k8s.io, ""], resources: ["*/scale"], resourceNames: [x]}`) +
				rb("ns", "r", "ClusterRole", "scale", alice),
			user:      &user.DefaultInfo{Name: "alice"},
			namespace: "ns",
			want: `
Resources                           Non-Resource URLs   Resource Names   Verbs
*/scale                             []                  [x]              [list]
*.rbac.authorization.k8s.io/scale   []                  [x]              [list]
`,
		},
		{
			name: "RoleBindings come after ClusterRoleBindings",
			manifests: clusterRole("w", nil, nil, `{verbs: [watch], apiGroups: [""], resources: [pods]}`) +
				clusterRole("g", nil, nil, `{verbs: [get], apiGroups: [""], resources: [pods]}`) +
				rb("ns", "a", "ClusterRole", "w", alice) + crb("z", "g", alice),
			user:      &user.DefaultInfo{Name: "alice"},
			namespace: "ns",
			want: `
Resources   Non-Resource URLs   Resource Names   Verbs
pods        []                  []               [get watch]
`,
		},
		{
			name: "system:masters has only what bindings give it",
			manifests: clusterRole("g", nil, nil, `{verbs: [get], apiGroups: [""], resources: [pods]}`) +
				crb("c", "g", "{kind: Group, apiGroup: rbac.authorization.k8s.io, name: other}"),
			user:      &user.DefaultInfo{Name: "root", Groups: []string{user.SystemPrivilegedGroup}},
			namespace: "default",
			want:      "\nResources   Non-Resource URLs   Resource Names   Verbs\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.namespace
			if ns == "" {
				ns = "default"
			}
			got, _, _ := accessList(t, modelFrom(t, tt.manifests), tt.user, ns)
			if want := strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("table differs (-want +got):\n%s", testkit.LineDiff(want, got))
			}
		})
	}
}

func TestAccessListNoHeaders(t *testing.T) {
	m := modelFrom(t, clusterRole("g", nil, nil, `{verbs: [get], apiGroups: [""], resources: [pods]}`)+crb("c", "g", alice))
	review, err := m.RulesReview(context.Background(), &user.DefaultInfo{Name: "alice"}, "default")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteAccessList(&out, &out, review.Status, true); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "pods   []    []    [get]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
