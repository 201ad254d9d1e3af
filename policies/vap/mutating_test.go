package vap

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

func mutatingPolicy(name, reinvocation, mutations string) string {
	return `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: ` + name + `}
spec:
  reinvocationPolicy: ` + reinvocation + `
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  mutations:
` + mutations + `
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: ` + name + `}
spec:
  policyName: ` + name + `
`
}

func TestMutate(t *testing.T) {
	tests := []struct {
		name    string
		docs    string
		op      policies.Operation
		want    string // a YAML fragment the mutated object must contain, or "" for unchanged
		refused string // a message of a refusal
	}{
		{
			name: "apply configuration merges a label",
			docs: mutatingPolicy("label", "Never", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"team": "a"}}}'
`),
			want: "    team: a\n",
		},
		{
			name: "JSON patch sets a field",
			docs: mutatingPolicy("replicas", "Never", `  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "replace", path: "/spec/replicas", value: 2}]'
`),
			want: "  replicas: 2\n",
		},
		{
			name: "JSON patch escaping a key",
			docs: mutatingPolicy("annotate", "Never", `  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "add", path: "/metadata/annotations", value: {}}, JSONPatch{op: "add", path: "/metadata/annotations/" + jsonpatch.escapeKey("example.com/owner"), value: "me"}]'
`),
			want: "    example.com/owner: me\n",
		},
		{
			name: "mutations apply in order, each seeing the last",
			docs: mutatingPolicy("ordered", "Never", `  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "replace", path: "/spec/replicas", value: 7}]'
  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "replace", path: "/spec/replicas", value: object.spec.replicas + 1}]'
`),
			want: "  replicas: 8\n",
		},
		{
			name: "reinvocation: an IfNeeded policy sees a later policy's change",
			// a-copy copies the label set by b-set; it runs first by name, so only reinvocation lets it see it.
			docs: mutatingPolicy("a-copy", "IfNeeded", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{annotations: {"copied": object.metadata.?labels["team"].orValue("none")}}}'
`) + "---\n" + mutatingPolicy("b-set", "Never", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"team": "z"}}}'
`),
			want: "    copied: z\n",
		},
		{
			name: "without reinvocation an earlier policy does not see a later change",
			docs: mutatingPolicy("a-copy", "Never", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{annotations: {"copied": object.metadata.?labels["team"].orValue("none")}}}'
`) + "---\n" + mutatingPolicy("b-set", "Never", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"team": "z"}}}'
`),
			want: "    copied: none\n",
		},
		{
			name: "a failing mutation under failurePolicy Fail refuses",
			docs: mutatingPolicy("broken", "Never", `  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "replace", path: "/spec/nothere/x", value: 1}]'
`),
			refused: "policy 'broken' with binding 'broken'",
		},
		{
			name: "a failing mutation under failurePolicy Ignore is skipped",
			docs: strings.Replace(mutatingPolicy("broken", "Never", `  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "replace", path: "/spec/nothere/x", value: 1}]'
`), "  reinvocationPolicy:", "  failurePolicy: Ignore\n  reinvocationPolicy:", 1),
			want: "",
		},
		{
			name: "matchConditions false skips",
			docs: strings.Replace(mutatingPolicy("label", "Never", `  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"team": "a"}}}'
`), "  mutations:", "  matchConditions: [{name: prod, expression: \"object.metadata.namespace == 'prod'\"}]\n  mutations:", 1),
			want: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, res, _, err := compileSet(t, tc.docs)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			op := tc.op
			if op == "" {
				op = policies.Create
			}
			req := request(t, res, deployment, op)
			before := req.Object.DeepCopy()
			out := set.Mutate(context.Background(), req)
			if diff := cmp.Diff(before.Object, req.Object.Object); diff != "" {
				t.Fatalf("Mutate changed the request's object:\n%s", diff)
			}
			if tc.refused != "" {
				if len(out.Findings) == 0 {
					t.Fatalf("not refused, want %q", tc.refused)
				}
				f := out.Findings[0]
				full := "policy '" + f.Policy + "' with binding '" + f.Binding + "' denied request: " + f.Message
				if !strings.Contains(full, tc.refused) {
					t.Fatalf("refusal %q does not contain %q", full, tc.refused)
				}
				if f.Text != full {
					t.Fatalf("refusal worded %q, want kube-apiserver's %q", f.Text, full)
				}
				return
			}
			if len(out.Findings) > 0 {
				t.Fatalf("refused: %+v", out.Findings)
			}
			got, _ := yaml.Marshal(out.Object.Object)
			if tc.want == "" {
				if diff := cmp.Diff(before.Object, out.Object.Object); diff != "" {
					t.Fatalf("object changed, want unchanged:\n%s", diff)
				}
				return
			}
			if !strings.Contains(string(got), tc.want) {
				t.Fatalf("mutated object:\n%s\ndoes not contain:\n%s", got, tc.want)
			}
		})
	}
}

func TestMutatingCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		docs string
		want string
	}{
		{
			name: "patch expression of the wrong type",
			docs: mutatingPolicy("p", "Never", "  - patchType: JSONPatch\n    jsonPatch: {expression: '1'}\n"),
			want: "spec.mutations[0].jsonPatch.expression",
		},
		{
			name: "no mutations",
			docs: strings.Replace(mutatingPolicy("p", "Never", ""), "  mutations:\n", "  mutations: []\n", 1),
			want: "spec.mutations: Required value",
		},
		{
			name: "patchType without its field",
			docs: mutatingPolicy("p", "Never", "  - patchType: ApplyConfiguration\n"),
			want: "spec.mutations[0].applyConfiguration: Required value",
		},
		{
			name: "bad reinvocation policy",
			docs: mutatingPolicy("p", "Sometimes", "  - patchType: JSONPatch\n    jsonPatch: {expression: '[]'}\n"),
			want: "spec.reinvocationPolicy: Unsupported value",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := compileSet(t, tc.docs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// An ApplyConfiguration on a custom resource merges as the CRD's schema says: a list with
// x-kubernetes-list-type map is merged by key, as kube-apiserver's server-side apply merges it.
func TestMutateCustomResourceWithSchema(t *testing.T) {
	docs := `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gateways.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gateway, plural: gateways}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              listeners:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: add-metrics-listener}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [gateways]}]
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{spec: Object.spec{listeners: [Object.spec.listeners{name: "metrics", port: 9090}]}}'
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: add-metrics-listener}
spec: {policyName: add-metrics-listener}
`
	ds, err := manifest.Decode("policy.yaml", []byte(docs)).Result()
	if err != nil {
		t.Fatal(err)
	}
	res := manifest.BuiltinResources()
	var crds []*unstructured.Unstructured
	for _, d := range ds {
		if manifest.IsCRD(d.Object) {
			if err := res.AddCRD(d.Object); err != nil {
				t.Fatal(err)
			}
			crds = append(crds, d.Object)
		}
	}
	set, _, err := Compile(ds, Options{Resources: res, Store: policies.NewStore(), CRDs: crds})
	if err != nil {
		t.Fatal(err)
	}
	req := request(t, res, `
apiVersion: example.com/v1
kind: Gateway
metadata: {name: gw, namespace: dev}
spec:
  listeners: [{name: http, port: 80}]
`, policies.Create)
	out := set.Mutate(context.Background(), req)
	if len(out.Findings) > 0 {
		t.Fatalf("refused: %+v", out.Findings)
	}
	listeners, _, _ := unstructured.NestedSlice(out.Object.Object, "spec", "listeners")
	var names []string
	for _, l := range listeners {
		names = append(names, l.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "http,metrics" {
		t.Errorf("listeners = %v, want http and metrics merged by name", names)
	}
}
