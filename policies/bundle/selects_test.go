package bundle

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/policies"
)

// selectsPolicies: a VAP on UPDATE of apps deployments (any version, matchPolicy Equivalent), one on
// CREATE of pods only, one on every resource but secrets, a Gatekeeper constraint on namespaced
// Pods and ConfigMaps, one on cluster-scoped objects of every kind, and a plain Rego module.
const selectsPolicies = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1beta2], operations: [UPDATE], resources: [deployments]}]
  validations: [{expression: "object.spec.replicas <= 5"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas}
spec: {policyName: replicas, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: create-only}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations: [{expression: "true"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: create-only}
spec: {policyName: create-only, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: all-but-secrets}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}]
    excludeResourceRules: [{apiGroups: [""], apiVersions: ["*"], operations: ["*"], resources: [secrets]}]
  validations: [{expression: "true"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: all-but-secrets-in-prod}
spec:
  policyName: all-but-secrets
  validationActions: [Audit]
  matchResources:
    resourceRules: [{apiGroups: ["", apps], apiVersions: ["*"], operations: ["*"], resources: ["*"], scope: Namespaced}]
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8steam}
spec:
  crd: {spec: {names: {kind: K8sTeam}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8steam
      violation[{"msg": "needs a team"}] { not input.review.object.metadata.labels.team }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTeam
metadata: {name: pods-and-configmaps}
spec:
  match: {kinds: [{apiGroups: [""], kinds: [Pod, ConfigMap]}], scope: Namespaced}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTeam
metadata: {name: cluster-scoped}
spec:
  match: {scope: Cluster}
`

const selectsRego = "package plain\n\ndeny contains \"no\" if { input.kind == \"Nothing\" }\n"

func TestSelects(t *testing.T) {
	b := loadDocs(t, selectsPolicies, selectsRego)
	res := func(group, version, resource, kind string, namespaced bool) policies.Resource {
		return policies.Resource{Kind: schema.GroupVersionKind{Group: group, Version: version, Kind: kind},
			Resource: schema.GroupVersionResource{Group: group, Version: version, Resource: resource}, Namespaced: namespaced}
	}
	tests := []struct {
		name string
		r    policies.Resource
		want []string // policy/binding
	}{
		{name: "deployments", r: res("apps", "v1", "deployments", "Deployment", true),
			want: []string{"all-but-secrets/all-but-secrets-in-prod", "replicas/replicas", "plain/"}},
		{name: "pods", r: res("", "v1", "pods", "Pod", true),
			want: []string{"all-but-secrets/all-but-secrets-in-prod", "k8steam/pods-and-configmaps", "plain/"}},
		{name: "secrets", r: res("", "v1", "secrets", "Secret", true), want: []string{"plain/"}},
		{name: "namespaces", r: res("", "v1", "namespaces", "Namespace", false), want: []string{"k8steam/cluster-scoped", "plain/"}},
		{name: "ingresses", r: res("networking.k8s.io", "v1", "ingresses", "Ingress", true), want: []string{"plain/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ref := range b.Selects(tc.r, policies.Update) {
				got = append(got, ref.Policy+"/"+ref.Binding)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Selects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidating(t *testing.T) {
	b := loadDocs(t, selectsPolicies, selectsRego)
	var got []string
	for _, ref := range b.Validating() {
		got = append(got, ref.Policy+"/"+ref.Binding)
	}
	want := []string{"all-but-secrets/all-but-secrets-in-prod", "create-only/create-only", "replicas/replicas",
		"k8steam/cluster-scoped", "k8steam/pods-and-configmaps", "plain/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validating (-want +got):\n%s", diff)
	}
}

// TestJudged: the outcome names every pair whose match rules took the request, with findings or not.
func TestJudged(t *testing.T) {
	b := loadDocs(t, selectsPolicies, selectsRego)
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "prod", "labels": map[string]any{"team": "a"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx"}}}}}
	req, err := RequestFor(b.Resources(), pod, policies.Update, "")
	if err != nil {
		t.Fatal(err)
	}
	out := b.Validate(context.Background(), req)
	var got []string
	for _, ref := range out.Judged {
		got = append(got, ref.Format+" "+ref.Policy+"/"+ref.Binding)
	}
	want := []string{"ValidatingAdmissionPolicy all-but-secrets/all-but-secrets-in-prod", "ConstraintTemplate k8steam/pods-and-configmaps", "Rego plain/"}
	if diff := cmp.Diff(want, got); diff != "" || len(out.Findings) != 0 {
		t.Errorf("Judged (-want +got):\n%s\nfindings: %v", diff, out.Findings)
	}
}

// loadDocs loads a set from a file of YAML policies and a Rego module.
func loadDocs(t *testing.T, yamlText, regoText string) *Bundle {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"policies.yaml": yamlText, "plain.rego": regoText} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Load(context.Background(), Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
