package rbacsim

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

const teamRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [get, list]}
- {nonResourceURLs: [/metrics, /healthz/*], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: team-a}
rules:
- {apiGroups: [apps], resources: [deployments, deployments/scale], verbs: [get, update, patch]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [app-config], verbs: [get, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: ServiceAccount, name: builder}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: monitor, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: node-viewers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: User, name: "system:serviceaccount:ops:monitor", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: stale, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
`

func TestAuthorize(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	sa := func(ns, name string) string { return "system:serviceaccount:" + ns + ":" + name }
	tests := []struct {
		name   string
		attrs  authorizer.AttributesRecord
		want   bool
		reason string
	}{
		{"RoleBinding to Role", resourceAttrs(sa("team-a", "builder"), nil, "update", "apps", "deployments", "", "team-a", "web"), true,
			"RBAC: allowed by RoleBinding team-a/ci of Role team-a/deployer rule #1"},
		{"RoleBinding to Role, subresource", resourceAttrs(sa("team-a", "builder"), nil, "patch", "apps", "deployments", "scale", "team-a", "web"), true, ""},
		{"RoleBinding only in its namespace", resourceAttrs(sa("team-a", "builder"), nil, "update", "apps", "deployments", "", "team-b", "web"), false, ""},
		{"RoleBinding not cluster-wide", resourceAttrs(sa("team-a", "builder"), nil, "get", "apps", "deployments", "", "", ""), false, ""},
		{"SA without namespace takes the binding's", resourceAttrs(sa("team-b", "builder"), nil, "update", "apps", "deployments", "", "team-a", "web"), false, ""},
		{"resourceNames allow the name", resourceAttrs(sa("team-a", "builder"), nil, "get", "", "configmaps", "", "team-a", "app-config"), true,
			"RBAC: allowed by RoleBinding team-a/ci of Role team-a/deployer rule #2"},
		{"resourceNames refuse other names", resourceAttrs(sa("team-a", "builder"), nil, "get", "", "configmaps", "", "team-a", "other"), false, ""},
		{"resourceNames refuse a request without name", resourceAttrs(sa("team-a", "builder"), nil, "get", "", "configmaps", "", "team-a", ""), false, ""},
		{"RoleBinding to ClusterRole via group", resourceAttrs("carol", []string{"dev"}, "get", "", "pods", "log", "team-a", "p"), true,
			"RBAC: allowed by RoleBinding team-a/readers of ClusterRole pod-reader rule #1"},
		{"RoleBinding to ClusterRole is namespaced", resourceAttrs("carol", []string{"dev"}, "get", "", "pods", "", "team-b", "p"), false, ""},
		{"group needed", resourceAttrs("carol", []string{"ops"}, "get", "", "pods", "", "team-a", "p"), false, ""},
		{"SA with namespace in other namespace's binding", resourceAttrs(sa("ops", "monitor"), nil, "list", "", "pods", "", "team-a", ""), true, ""},
		{"ClusterRoleBinding by user", resourceAttrs("alice", nil, "list", "", "nodes", "", "", ""), true,
			"RBAC: allowed by ClusterRoleBinding node-viewers of ClusterRole node-viewer rule #1"},
		{"ClusterRoleBinding applies in namespaces", resourceAttrs("alice", nil, "get", "", "nodes", "", "team-a", "n1"), true, ""},
		{"User subject naming a service account", resourceAttrs(sa("ops", "monitor"), nil, "get", "", "nodes", "", "", "n1"), true, ""},
		{"ClusterRoleBinding verb", resourceAttrs("alice", nil, "delete", "", "nodes", "", "", "n1"), false, ""},
		{"non-resource URL", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/metrics"}, true,
			"RBAC: allowed by ClusterRoleBinding node-viewers of ClusterRole node-viewer rule #2"},
		{"non-resource URL prefix", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/healthz/etcd"}, true, ""},
		{"non-resource URL prefix excludes the bare path", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/healthz"}, false, ""},
		{"missing role grants nothing", resourceAttrs("bob", nil, "get", "", "pods", "", "team-a", ""), false,
			"RBAC: RoleBinding team-a/stale refers to Role team-a/gone, which does not exist"},
		{"system:masters may do anything", resourceAttrs("root", []string{"system:masters"}, "delete", "", "namespaces", "", "", "kube-system"), true,
			"allowed: member of group system:masters"},
		{"system:masters and URLs", authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "root", Groups: []string{"system:masters"}}, Verb: "post", Path: "/x"}, true, ""},
		{"unknown user", resourceAttrs("mallory", []string{"system:authenticated"}, "get", "", "pods", "", "team-a", ""), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := allowed(t, m, tt.attrs)
			if got != tt.want {
				t.Errorf("allowed = %v (%s), want %v", got, reason, tt.want)
			}
			if tt.reason != "" && reason != tt.reason {
				t.Errorf("reason = %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestAuthorizeNoUser(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	d, _, err := m.Authorize(context.Background(), authorizer.AttributesRecord{Verb: "get"})
	if err == nil || d == authorizer.DecisionAllow {
		t.Errorf("Authorize without user = %v, %v; want an error", d, err)
	}
}

// A ClusterRoleBinding's ServiceAccount subject without a namespace matches nobody (the API server
// refuses such a binding; a model built by hand may still hold one).
func TestClusterRoleBindingServiceAccountWithoutNamespace(t *testing.T) {
	objs := &Objects{
		ClusterRoles: []*rbacv1.ClusterRole{{Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{{
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "all", APIGroup: rbacv1.GroupName},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "sa"}},
		}},
	}
	objs.ClusterRoles[0].Name = "all"
	objs.ClusterRoleBindings[0].Name = "b"
	m := NewModel(objs)
	for _, ns := range []string{"", "default", "kube-system"} {
		if ok, _ := allowed(t, m, resourceAttrs("system:serviceaccount:"+ns+":sa", nil, "get", "", "pods", "", ns, "")); ok {
			t.Errorf("namespace %q: allowed, want denied", ns)
		}
	}
	if got, _ := m.WhoCan(Question{Verb: "get", Type: "pods", Namespace: "default"}); len(got) != 0 {
		t.Errorf("WhoCan = %v, want nobody", got)
	}
}

func TestVisitRulesForVisitsEachBindingOnce(t *testing.T) {
	m := modelFrom(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: many-subjects}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects:
- {kind: Group, name: g2, apiGroup: rbac.authorization.k8s.io}
- {kind: User, name: u, apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: g1, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: x, namespace: ns-y}
`)
	var sources []string
	m.VisitRulesFor(&user.DefaultInfo{Name: "u", Groups: []string{"g1", "g2"}}, "default", func(src *RuleSource, _ *rbacv1.PolicyRule, _ error) bool {
		sources = append(sources, src.String()+" to "+src.Subject.Kind+" "+src.Subject.Name)
		return true
	})
	want := "ClusterRoleBinding many-subjects of ClusterRole r rule #1 to Group g2"
	if len(sources) != 1 || sources[0] != want {
		t.Errorf("visited %q, want [%q]", sources, want)
	}
}

func TestLaterObjectsReplaceEarlier(t *testing.T) {
	m := modelFrom(t, teamRBAC+`
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [delete]}
`)
	if ok, _ := allowed(t, m, resourceAttrs("alice", nil, "get", "", "nodes", "", "", "")); ok {
		t.Error("get nodes still allowed after the role was replaced")
	}
	if ok, reason := allowed(t, m, resourceAttrs("alice", nil, "delete", "", "nodes", "", "", "")); !ok || !strings.Contains(reason, "node-viewer") {
		t.Errorf("delete nodes = %v %q, want allowed by node-viewer", ok, reason)
	}
}
