package gatekeeper

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// object builds an object from YAML.
func object(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatalf("object: %v", err)
	}
	return &unstructured.Unstructured{Object: m}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestMatch(t *testing.T) {
	pod := `{apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: team-a, labels: {app: web}}}`
	podNoNS := `{apiVersion: v1, kind: Pod, metadata: {name: web-1}}`
	deploy := `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: team-a}}`
	ns := `{apiVersion: v1, kind: Namespace, metadata: {name: kube-system, labels: {tier: system}}}`
	node := `{apiVersion: v1, kind: Node, metadata: {name: node-1, labels: {zone: a}}}`
	generated := `{apiVersion: v1, kind: Pod, metadata: {generateName: web-, namespace: team-a}}`
	teamA := namespace("team-a", map[string]string{"env": "prod"})

	cases := []struct {
		name  string
		match string // spec.match as YAML; empty means no match block
		obj   string
		old   string
		ns    *corev1.Namespace
		want  bool
		err   string
	}{
		{name: "no match block", obj: pod, want: true},
		{name: "empty match block", match: `{}`, obj: pod, want: true},
		{name: "kinds: core Pod", match: `{kinds: [{apiGroups: [""], kinds: [Pod]}]}`, obj: pod, want: true},
		{name: "kinds: other kind", match: `{kinds: [{apiGroups: [""], kinds: [Service]}]}`, obj: pod, want: false},
		{name: "kinds: group must match", match: `{kinds: [{apiGroups: [""], kinds: [Deployment]}]}`, obj: deploy, want: false},
		{name: "kinds: wildcard group", match: `{kinds: [{apiGroups: ["*"], kinds: [Deployment]}]}`, obj: deploy, want: true},
		{name: "kinds: wildcard kind", match: `{kinds: [{apiGroups: [apps], kinds: ["*"]}]}`, obj: deploy, want: true},
		{name: "kinds: empty lists match all", match: `{kinds: [{}]}`, obj: deploy, want: true},
		{name: "kinds: any entry", match: `{kinds: [{apiGroups: [""], kinds: [Pod]}, {apiGroups: [apps], kinds: [Deployment]}]}`, obj: deploy, want: true},
		{name: "scope Namespaced: namespaced object", match: `{scope: Namespaced}`, obj: pod, want: true},
		{name: "scope Namespaced: cluster object", match: `{scope: Namespaced}`, obj: node, want: false},
		{name: "scope Namespaced: object as written without namespace", match: `{scope: Namespaced}`, obj: podNoNS, want: false},
		{name: "scope Namespaced: Namespace object", match: `{scope: Namespaced}`, obj: ns, want: false},
		{name: "scope Cluster: Namespace object", match: `{scope: Cluster}`, obj: ns, want: true},
		{name: "scope Cluster: cluster object", match: `{scope: Cluster}`, obj: node, want: true},
		{name: "scope Cluster: namespaced object", match: `{scope: Cluster}`, obj: pod, want: false},
		{name: "scope Cluster: namespace known from the request", match: `{scope: Cluster}`, obj: podNoNS, ns: teamA, want: false},
		{name: "scope *", match: `{scope: "*"}`, obj: node, want: true},
		{name: "scope typo matches all", match: `{scope: cluster}`, obj: pod, want: true},
		{name: "namespaces: listed", match: `{namespaces: [team-a]}`, obj: pod, want: true},
		{name: "namespaces: not listed", match: `{namespaces: [team-b]}`, obj: pod, want: false},
		{name: "namespaces: prefix glob", match: `{namespaces: [team-*]}`, obj: pod, want: true},
		{name: "namespaces: suffix glob", match: `{namespaces: ["*-a"]}`, obj: pod, want: true},
		{name: "namespaces: infix glob", match: `{namespaces: ["*eam*"]}`, obj: pod, want: true},
		{name: "namespaces: glob misses", match: `{namespaces: [kube-*]}`, obj: pod, want: false},
		{name: "namespaces: cluster object always matches", match: `{namespaces: [team-b]}`, obj: node, want: true},
		{name: "namespaces: Namespace object by its name", match: `{namespaces: [kube-*]}`, obj: ns, want: true},
		{name: "namespaces: Namespace object not listed", match: `{namespaces: [team-a]}`, obj: ns, want: false},
		{name: "namespaces: request namespace wins over the object's", match: `{namespaces: [team-b]}`, obj: pod, ns: namespace("team-b", nil), want: true},
		{name: "namespaces: object without namespace matches", match: `{namespaces: [team-b]}`, obj: podNoNS, want: true},
		{name: "excludedNamespaces: excluded", match: `{excludedNamespaces: [team-a]}`, obj: pod, want: false},
		{name: "excludedNamespaces: glob", match: `{excludedNamespaces: [team*]}`, obj: pod, want: false},
		{name: "excludedNamespaces: other", match: `{excludedNamespaces: [kube-system]}`, obj: pod, want: true},
		{name: "excludedNamespaces: Namespace object itself", match: `{excludedNamespaces: [kube-system]}`, obj: ns, want: false},
		{name: "excludedNamespaces: cluster object", match: `{excludedNamespaces: [team-a]}`, obj: node, want: true},
		{name: "labelSelector: matchLabels", match: `{labelSelector: {matchLabels: {app: web}}}`, obj: pod, want: true},
		{name: "labelSelector: mismatch", match: `{labelSelector: {matchLabels: {app: db}}}`, obj: pod, want: false},
		{name: "labelSelector: expression", match: `{labelSelector: {matchExpressions: [{key: app, operator: NotIn, values: [db]}]}}`, obj: pod, want: true},
		{name: "labelSelector: DoesNotExist", match: `{labelSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}`, obj: pod, want: false},
		{name: "labelSelector: cluster object", match: `{labelSelector: {matchLabels: {zone: a}}}`, obj: node, want: true},
		{name: "namespaceSelector: namespace labels", match: `{namespaceSelector: {matchLabels: {env: prod}}}`, obj: pod, ns: teamA, want: true},
		{name: "namespaceSelector: namespace mismatch", match: `{namespaceSelector: {matchLabels: {env: dev}}}`, obj: pod, ns: teamA, want: false},
		{name: "namespaceSelector: Namespace object's own labels", match: `{namespaceSelector: {matchLabels: {tier: system}}}`, obj: ns, want: true},
		{name: "namespaceSelector: Namespace object mismatch", match: `{namespaceSelector: {matchLabels: {tier: app}}}`, obj: ns, ns: teamA, want: false},
		{name: "namespaceSelector: cluster object always matches", match: `{namespaceSelector: {matchLabels: {env: dev}}}`, obj: node, want: true},
		{name: "namespaceSelector: unknown namespace is an error", match: `{namespaceSelector: {matchLabels: {env: dev}}}`, obj: pod,
			err: "namespace selector for namespace-scoped object but missing Namespace"},
		{name: "name: exact", match: `{name: web-1}`, obj: pod, want: true},
		{name: "name: other", match: `{name: web-2}`, obj: pod, want: false},
		{name: "name: prefix glob", match: `{name: web-*}`, obj: pod, want: true},
		{name: "name: suffix glob", match: `{name: "*-1"}`, obj: pod, want: true},
		{name: "name: prefix glob on generateName", match: `{name: web-*}`, obj: generated, want: true},
		{name: "name: suffix glob never matches generateName", match: `{name: "*-"}`, obj: generated, want: false},
		{name: "name: exact never matches generateName", match: `{name: web-}`, obj: generated, want: false},
		{name: "source: Original", match: `{source: Original}`, obj: pod, want: true},
		{name: "source: All", match: `{source: All}`, obj: pod, want: true},
		{name: "source: Generated", match: `{source: Generated}`, obj: pod, want: false},
		{name: "all criteria", match: `{kinds: [{apiGroups: [""], kinds: [Pod]}], scope: Namespaced, namespaces: [team-*], excludedNamespaces: [team-b],
			labelSelector: {matchLabels: {app: web}}, namespaceSelector: {matchLabels: {env: prod}}, name: web-*}`, obj: pod, ns: teamA, want: true},
		{name: "one criterion fails", match: `{kinds: [{apiGroups: [""], kinds: [Pod]}], namespaces: [team-*], name: db-*}`, obj: pod, want: false},
		{name: "old object matches when the new one does not", match: `{labelSelector: {matchLabels: {app: web}}}`,
			obj: `{apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: team-a}}`, old: pod, want: true},
		{name: "old object alone (DELETE)", match: `{namespaces: [team-a]}`, old: pod, want: true},
		{name: "no object at all", match: `{}`, err: "neither object nor old object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw any
			if tc.match != "" {
				if err := yaml.Unmarshal([]byte(tc.match), &raw); err != nil {
					t.Fatal(err)
				}
			}
			m, err := compileMatch(raw)
			if err != nil {
				t.Fatalf("compileMatch: %v", err)
			}
			var obj, old *unstructured.Unstructured
			if tc.obj != "" {
				obj = object(t, tc.obj)
			}
			if tc.old != "" {
				old = object(t, tc.old)
			}
			got, err := m.matches(obj, old, tc.ns)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompileMatchErrors(t *testing.T) {
	cases := map[string]string{
		`{labelSelector: {matchExpressions: [{key: app, operator: Bogus}]}}`:  "labelSelector",
		`{namespaceSelector: {matchExpressions: [{key: app, operator: In}]}}`: "namespaceSelector",
		`{source: Elsewhere}`: "source",
		`{kinds: Pod}`:        "spec.match",
		`{labelSelector: {matchLabels: {"bad key!": x}}}`: "labelSelector",
	}
	for match, want := range cases {
		var raw any
		if err := yaml.Unmarshal([]byte(match), &raw); err != nil {
			t.Fatal(err)
		}
		if _, err := compileMatch(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("compileMatch(%s) = %v, want an error naming %s", match, err, want)
		}
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		w, s string
		want bool
	}{
		{"kube-*", "kube-system", true},
		{"kube-*", "kube", false},
		{"*-system", "gatekeeper-system", true},
		{"*", "anything", true},
		{"*", "", true},
		{"*sys*", "kube-system-x", true},
		{"kube-system", "kube-system", true},
		{"kube-system", "kube-system2", false},
		{"k*s", "kube-ns", false}, // only leading and trailing stars are globs
	}
	for _, c := range cases {
		if got := wildcardMatches(c.w, c.s); got != c.want {
			t.Errorf("wildcardMatches(%q, %q) = %v, want %v", c.w, c.s, got, c.want)
		}
	}
}
