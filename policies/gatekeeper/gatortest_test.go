package gatekeeper

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies"
)

// TestGatorTestNamespaces: with gator test's namespaces, an object that names no namespace is in an
// empty Namespace, as gator test v3.23.1 reports it (a Pod without metadata.namespace is not matched
// by namespaces: [default], is matched by scope: Namespaced; a ClusterRole is not matched by scope:
// Cluster); the store's view (the API server's) is unchanged.
func TestGatorTestNamespaces(t *testing.T) {
	prod := object(t, `{apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {env: prod}}}`)
	gator := GatorTestNamespaces([]*unstructured.Unstructured{prod})
	store := policies.NewStore()
	store.Add(prod)
	pod := `{apiVersion: v1, kind: Pod, metadata: {name: p}}`
	role := `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: r}}`
	for _, tc := range []struct {
		name, match, object string
		gator, store        int
	}{
		{"namespaces, no namespace", `{namespaces: [default]}`, pod, 0, 1},
		{"namespaces, default", `{namespaces: [default]}`, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: default}}`, 1, 1},
		{"namespaces *, no namespace", `{namespaces: ["*"]}`, pod, 1, 1},
		{"excludedNamespaces, no namespace", `{excludedNamespaces: [default]}`, pod, 1, 1},
		{"scope Namespaced, no namespace", `{scope: Namespaced}`, pod, 1, 0},
		{"scope Cluster, cluster-scoped", `{scope: Cluster}`, role, 0, 1},
		{"scope Cluster, Namespace", `{scope: Cluster}`, `{apiVersion: v1, kind: Namespace, metadata: {name: n}}`, 1, 1},
		{"namespaceSelector, no namespace", `{namespaceSelector: {matchLabels: {env: prod}}}`, pod, 0, 1},
		{"namespaceSelector, known", `{namespaceSelector: {matchLabels: {env: prod}}}`, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: prod}}`, 1, 1},
		{"namespaceSelector, default", `{namespaceSelector: {matchLabels: {env: prod}}}`, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: default}}`, 0, 0},
	} {
		c := constraintYAML("K8sRequiredLabels", "owner", `{match: `+tc.match+`, parameters: {labels: [owner]}}`)
		for _, side := range []struct {
			name string
			opts Options
			want int
		}{{"gator", Options{Namespaces: gator}, tc.gator}, {"store", Options{Store: store}, tc.store}} {
			s := compile(t, side.opts, requiredLabels, c)
			out := s.Validate(context.Background(), request(object(t, tc.object), policies.Create))
			if len(out.Errors) > 0 || len(out.Findings) != side.want {
				t.Errorf("%s, %s: findings %v, errors %v; want %d findings", tc.name, side.name, messagesOf(out), out.Errors, side.want)
			}
		}
	}
}

// TestUnknownParameters: a constraint's parameters that its template's schema does not know make it
// invalid, as gator test v3.23.1 reports ("invalid Constraint: unknown fields: [...]"); it is not a
// schema error (gator verify's invalid: true wants one of those).
func TestUnknownParameters(t *testing.T) {
	noSchema := regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": \"m\"}] { true }\n")
	withSchema := strings.Replace(noSchema, "crd: {spec: {names: {kind: K}}}",
		"crd: {spec: {names: {kind: K}, validation: {openAPIV3Schema: {type: object, properties: {known: {type: string}, open: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}", 1)
	for _, tc := range []struct {
		name, template, spec, err string
	}{
		{"no schema, no parameters", noSchema, `{}`, ""},
		{"no schema, parameters", noSchema, `{parameters: {a: 1}}`, "invalid Constraint: unknown fields: [spec.parameters]"},
		{"no schema, empty parameters", noSchema, `{parameters: {}}`, "invalid Constraint: unknown fields: [spec.parameters]"},
		{"known", withSchema, `{parameters: {known: x, open: {any: 1}}}`, ""},
		{"unknown", withSchema, `{parameters: {known: x, unknown: 1, other: {a: 1}}}`, "invalid Constraint: unknown fields: [spec.parameters.other spec.parameters.unknown]"},
	} {
		_, _, err := Compile(context.Background(), docs(t, "policy.yaml", tc.template, constraintYAML("K", "c", tc.spec)), Options{})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		case tc.err != "" && (!errors.Is(err, ErrInvalidConstraint) || errors.Is(err, ErrSchema)):
			t.Errorf("%s: error %v is not ErrInvalidConstraint alone", tc.name, err)
		}
	}
}

// TestNamespaceObject: Rego's input.review.namespaceObject is the request's Namespace under the API
// server's view (the store), as Gatekeeper 3.23's webhook passes it, and null under gator test's and
// any other getter's (gator test and gator verify pass none).
func TestNamespaceObject(t *testing.T) {
	tmpl := regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": msg}] {\n        msg := sprintf(\"%v\", [input.review.namespaceObject.metadata.labels.env])\n      }\n      violation[{\"msg\": \"null\"}] { input.review.namespaceObject == null }\n")
	prod := object(t, `{apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {env: prod}}}`)
	store := policies.NewStore()
	store.Add(prod)
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: prod}}`)
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"store", Options{Store: store}, []string{"prod"}},
		{"gator test", Options{Namespaces: GatorTestNamespaces([]*unstructured.Unstructured{prod})}, []string{"null"}},
		{"other getter", Options{Namespaces: nsGetter{}}, []string{"null"}},
	} {
		s := compile(t, tc.opts, tmpl, constraintYAML("K", "c", `{}`))
		out := s.Validate(context.Background(), request(pod, policies.Create))
		if got := messagesOf(out); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: messages %q, want %q (errors %v)", tc.name, got, tc.want, out.Errors)
		}
	}
}
