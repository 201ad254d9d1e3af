package rbacsim

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestWhoCan(t *testing.T) {
	m := modelFrom(t, teamRBAC+`
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: Group, name: "system:masters", apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: "system:masters", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: watcher}
`)
	format := func(gs []Grant) string {
		var out []string
		for _, g := range gs {
			out = append(out, fmt.Sprintf("%s %s/%s via %s of %s", g.Kind, g.Namespace, g.Name, g.Binding, g.Role))
		}
		return strings.Join(out, "\n")
	}
	tests := []struct {
		name string
		req  Question
		want string
	}{
		{"namespace", Question{Verb: "get", Type: "pods", Subresource: "log", Namespace: "team-a"}, `
Group /dev via RoleBinding team-a/readers of ClusterRole pod-reader
Group /system:masters via ClusterRoleBinding admins of ClusterRole pod-reader
ServiceAccount ops/monitor via RoleBinding team-a/readers of ClusterRole pod-reader`},
		{"all namespaces", Question{Verb: "list", Type: "pods", AllNamespaces: true}, `
Group /dev via RoleBinding team-a/readers of ClusterRole pod-reader
Group /system:masters via ClusterRoleBinding admins of ClusterRole pod-reader
ServiceAccount ops/monitor via RoleBinding team-a/readers of ClusterRole pod-reader
ServiceAccount team-b/watcher via RoleBinding team-b/readers of ClusterRole pod-reader`},
		{"cluster-wide", Question{Verb: "list", Type: "pods"}, `
Group /system:masters via ClusterRoleBinding admins of ClusterRole pod-reader`},
		{"SA without namespace takes its binding's", Question{Verb: "update", Type: "deployments.apps/web", Subresource: "scale", Namespace: "team-a"}, `
ServiceAccount team-a/builder via RoleBinding team-a/ci of Role team-a/deployer`},
		{"resource names", Question{Verb: "get", Type: "configmaps/other", Namespace: "team-a"}, ``},
		{"resource names match", Question{Verb: "get", Type: "configmaps/app-config", Namespace: "team-a"}, `
ServiceAccount team-a/builder via RoleBinding team-a/ci of Role team-a/deployer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grants, warnings := m.WhoCan(tt.req)
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			if got := format(grants); got != strings.TrimPrefix(tt.want, "\n") {
				t.Errorf("WhoCan =\n%s\nwant\n%s", got, strings.TrimPrefix(tt.want, "\n"))
			}
		})
	}
}

func TestExplain(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	sa := "system:serviceaccount:team-a:builder"
	tests := []struct {
		name  string
		user  string
		verb  string
		group string
		res   string
		sub   string
		ns    string
		rname string
		want  string
	}{
		{"allowed", sa, "update", "apps", "deployments", "scale", "team-a", "web", `
granted by:
  RoleBinding team-a/ci of Role team-a/deployer rule #1
`},
		{"wrong verb", sa, "delete", "apps", "deployments", "", "team-a", "web", `
nearest rules:
  RoleBinding team-a/ci of Role team-a/deployer rule #1: verb "delete" not in [get update patch]
`},
		{"wrong namespace", sa, "update", "apps", "deployments", "", "team-b", "web", `
nearest rules:
  RoleBinding team-a/ci of Role team-a/deployer rule #1: grants it in namespace team-a, not in team-b
`},
		{"resource name", sa, "get", "", "configmaps", "", "team-a", "", `
nearest rules:
  RoleBinding team-a/ci of Role team-a/deployer rule #2: resourceNames [app-config] never match a request without a name
`},
		{"other name", sa, "update", "", "configmaps", "", "team-a", "x", `
nearest rules:
  RoleBinding team-a/ci of Role team-a/deployer rule #2: name "x" not in resourceNames [app-config]
`},
		{"wrong group", "carol", "get", "apps", "pods", "", "team-a", "", `
nearest rules:
  RoleBinding team-a/readers of ClusterRole pod-reader rule #1: API group "apps" not in [""]
`},
		{"missing role", "bob", "get", "", "pods", "", "team-a", "", `
no rule that applies to this user comes close
bindings to missing roles (they grant nothing):
  RoleBinding team-a/stale refers to Role team-a/gone, which does not exist
`},
		{"masters", "root", "delete", "", "nodes", "", "", "n", `
allowed: the user is in group system:masters, which may do anything
`},
	}
	groups := map[string][]string{"carol": {"dev"}, "root": {"system:masters"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := m.Explain(resourceAttrs(tt.user, groups[tt.user], tt.verb, tt.group, tt.res, tt.sub, tt.ns, tt.rname))
			var b strings.Builder
			if err := e.Write(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != strings.TrimPrefix(tt.want, "\n") {
				t.Errorf("explanation =\n%s\nwant\n%s", got, strings.TrimPrefix(tt.want, "\n"))
			}
			d, _ := allowed(t, m, resourceAttrs(tt.user, groups[tt.user], tt.verb, tt.group, tt.res, tt.sub, tt.ns, tt.rname))
			if d != e.Allowed {
				t.Errorf("Explain allowed = %v, Authorize = %v", e.Allowed, d)
			}
		})
	}
	e := m.Explain(attrsURL("alice", nil, "get", "/healthz"))
	if e.Allowed || len(e.NearMisses) != 1 || !strings.Contains(e.NearMisses[0].Reasons[0], `URL "/healthz" not in [/metrics /healthz/*]`) {
		t.Errorf("URL explanation = %+v", e)
	}
}

func TestChecks(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	checks, err := ParseChecks("checks.yaml", []byte(`
checks:
- as: system:serviceaccount:team-a:builder
  verb: update
  resource: deployments.apps
  subresource: scale
  name: web
  namespace: team-a
  allowed: true
- as: alice
  verb: get
  nonResourceURL: /metrics
  allowed: true
- as: carol
  groups: [dev]
  verb: get
  resource: secrets
  namespace: team-a
  allowed: true
- as: system:serviceaccount:team-a:builder
  groups: [dev]
  verb: list
  resource: pods
  namespace: team-a
  allowed: true
- as: system:serviceaccount:team-a:builder
  request: 'PATCH /apis/apps/v1/namespaces/team-a/deployments/web/scale'
  allowed: true
- as: carol
  groups: [dev]
  request: GET /api/v1/namespaces/team-a/secrets?watch=1
  allowed: true
`))
	if err != nil {
		t.Fatal(err)
	}
	results, err := m.RunChecks(context.Background(), checks)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%d %v %v %v %s", r.Index, r.Allowed, r.Expected, r.Pass, r.Reason))
	}
	want := []string{
		"0 true true true allowed by RoleBinding team-a/ci of Role team-a/deployer rule #1",
		"1 true true true allowed by ClusterRoleBinding node-viewers of ClusterRole node-viewer rule #2",
		"2 false true false no RBAC rule allows it",
		"3 true true true allowed by RoleBinding team-a/readers of ClusterRole pod-reader rule #1",
		"4 true true true allowed by RoleBinding team-a/ci of Role team-a/deployer rule #1",
		"5 false true false no RBAC rule allows it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseChecksErrors(t *testing.T) {
	tests := []struct{ name, input, err string }{
		{"unknown field", "checks:\n- as: a\n  verb: get\n  resource: pods\n  allowed: true\n  expected: false\n", `unknown field "expected"`},
		{"unknown top-level field", "checks: []\nextra: 1\n", `unknown field "extra"`},
		{"no checks", "{}\n", "no checks"},
		{"missing allowed", "checks:\n- as: a\n  verb: get\n  resource: pods\n", "checks[0]: allowed is required"},
		{"missing as", "checks:\n- verb: get\n  resource: pods\n  allowed: false\n", "checks[0]: as is required"},
		{"both", "checks:\n- as: a\n  verb: get\n  resource: pods\n  nonResourceURL: /x\n  allowed: false\n", "cannot both be set"},
		{"neither", "checks:\n- as: a\n  verb: get\n  allowed: false\n", "one of resource, nonResourceURL or request is required"},
		{"request and verb", "checks:\n- as: a\n  verb: get\n  request: GET /api/v1/pods\n  allowed: false\n", "checks[0]: request cannot be used with verb"},
		{"request and namespace", "checks:\n- as: a\n  namespace: x\n  request: GET /api/v1/pods\n  allowed: false\n", "request cannot be used with"},
		{"bad request", "checks:\n- as: a\n  request: GET\n  allowed: false\n", `checks[0]: request "GET": expected METHOD PATH[?QUERY]`},
		{"unresolvable request", "checks:\n- as: a\n  request: GET /api/v1/watch\n  allowed: false\n", "unable to determine kind and namespace"},
		{"URL with namespace", "checks:\n- as: a\n  verb: get\n  nonResourceURL: /x\n  namespace: y\n  allowed: false\n", "takes no subresource, name or namespace"},
		{"bad YAML", "checks: [\n", "checks.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseChecks("checks.yaml", []byte(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
}
