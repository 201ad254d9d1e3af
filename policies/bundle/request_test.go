package bundle

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

func TestRequestFor(t *testing.T) {
	res := manifest.BuiltinResources()
	tests := []struct {
		name      string
		obj       string
		op        policies.Operation
		namespace string
		asWritten bool
		strict    bool
		wantNS    string
		wantRes   string
		wantErr   string
		check     func(t *testing.T, r *policies.Request)
	}{
		{name: "namespaced object without namespace goes to default", obj: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", wantNS: "default", wantRes: "configmaps"},
		{name: "--namespace fills it", obj: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", namespace: "dev", wantNS: "dev", wantRes: "configmaps"},
		{name: "its own namespace is kept", obj: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: shop}\n", wantNS: "shop", wantRes: "deployments"},
		{name: "a different --namespace is kubectl's error", obj: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n", namespace: "b",
			wantErr: `the namespace from the provided object "a" does not match the namespace "b"`},
		{name: "cluster-scoped has no namespace", obj: "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n", namespace: "dev", wantNS: "", wantRes: "clusterroles"},
		{name: "a Namespace gets its name label", obj: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", wantNS: "", wantRes: "namespaces",
			check: func(t *testing.T, r *policies.Request) {
				if r.Object.GetLabels()[policies.NamespaceNameLabel] != "shop" {
					t.Errorf("labels = %v", r.Object.GetLabels())
				}
			}},
		{name: "a Namespace's own UPDATE carries its name as namespace, as the API server's path does", obj: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
			op: policies.Update, wantNS: "shop", wantRes: "namespaces",
			check: func(t *testing.T, r *policies.Request) {}},
		{name: "decoded through its type: nulls dropped", obj: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: null\n  containers: [{name: c, image: x, securityContext: null}]\n",
			wantNS: "default", wantRes: "pods",
			check: func(t *testing.T, r *policies.Request) {
				spec := r.Object.Object["spec"].(map[string]any)
				if _, ok := spec["initContainers"]; ok {
					t.Errorf("initContainers: null reached the policies: %v", spec)
				}
			}},
		{name: "defaults filled in as the API server does", obj: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: 'x:latest', ports: [{containerPort: 80}]}]}\n",
			wantNS: "default", wantRes: "deployments",
			check: func(t *testing.T, r *policies.Request) {
				replicas, _, _ := unstructured.NestedInt64(r.Object.Object, "spec", "replicas")
				containers, _, _ := unstructured.NestedSlice(r.Object.Object, "spec", "template", "spec", "containers")
				c := containers[0].(map[string]any)
				port := c["ports"].([]any)[0].(map[string]any)
				if replicas != 1 || c["imagePullPolicy"] != "Always" || port["protocol"] != "TCP" {
					t.Errorf("replicas %d, imagePullPolicy %v, protocol %v; want 1, Always (for :latest), TCP", replicas, c["imagePullPolicy"], port["protocol"])
				}
			}},
		{name: "unknown field refused", obj: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containerz: []}\n", wantErr: `unknown field "spec.containerz"`},
		{name: "unknown kind is judged as written, cluster-scoped without a namespace", obj: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", wantNS: "", wantRes: "widgets"},
		{name: "unknown kind naming a namespace is namespaced", obj: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {any: thing}\n", wantNS: "shop", wantRes: "widgets"},
		{name: "unknown kind under --strict is kubectl's error", strict: true, obj: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", wantErr: `no matches for kind "Widget" in version "example.com/v1"`},
		{name: "removed API version names its replacement", obj: "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: d}\n",
			wantErr: "apps/v1beta1 Deployment is not served by Kubernetes v1.37: it was removed in v1.16; use apps/v1 Deployment"},
		{name: "a built-in kind in a version the API server does not serve", obj: "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: d}\n",
			wantErr: "apps/v2 Deployment is not served by a default Kubernetes v1.37 API server; use apps/v1 Deployment"},
		{name: "removed Ingress version", obj: "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules: [{http: {paths: [{backend: {service: {name: s}}}]}}]\n",
			wantErr: "networking.k8s.io/v1beta1 Ingress is not served by Kubernetes v1.37: it was removed in v1.22; use networking.k8s.io/v1 Ingress"},
		{name: "as written: a removed version is judged as written", asWritten: true, obj: "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules: [{http: {paths: [{backend: {service: {name: s}}}]}}]\n",
			wantNS: "", wantRes: "ingresses"},
		{name: "as written: no namespace filled in, no defaults, nulls kept", asWritten: true, namespace: "dev",
			obj:    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec: {containers: null}\n",
			wantNS: "", wantRes: "deployments",
			check: func(t *testing.T, r *policies.Request) {
				spec := r.Object.Object["spec"].(map[string]any)
				if _, ok := spec["replicas"]; ok {
					t.Errorf("defaults filled in as written: %v", spec)
				}
				tmpl := spec["template"].(map[string]any)["spec"].(map[string]any)
				if c, ok := tmpl["containers"]; !ok || c != nil {
					t.Errorf("containers: null changed: %v", tmpl)
				}
			}},
		{name: "as written: a Namespace has no name label added", asWritten: true, obj: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", wantNS: "", wantRes: "namespaces",
			check: func(t *testing.T, r *policies.Request) {
				if len(r.Object.GetLabels()) != 0 {
					t.Errorf("labels = %v", r.Object.GetLabels())
				}
			}},
		{name: "DELETE judges the old object", obj: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", op: policies.Delete, wantNS: "default", wantRes: "configmaps",
			check: func(t *testing.T, r *policies.Request) {
				if r.Object != nil || r.OldObject == nil || r.Options.GetKind() != "DeleteOptions" {
					t.Errorf("DELETE request: object %v, oldObject %v, options %v", r.Object, r.OldObject, r.Options)
				}
			}},
		{name: "UPDATE judges the object against itself", obj: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", op: policies.Update, wantNS: "default", wantRes: "configmaps",
			check: func(t *testing.T, r *policies.Request) {
				if r.Object == nil || r.OldObject == nil {
					t.Error("UPDATE request lacks object or oldObject")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := manifest.Decode("x.yaml", []byte(tc.obj)).Result()
			if err != nil {
				t.Fatal(err)
			}
			op := tc.op
			if op == "" {
				op = policies.Create
			}
			view := &manifest.View{Resources: res, Namespace: tc.namespace, AsWritten: tc.asWritten, Strict: tc.strict}
			r, _, err := Present(view, docs[0].Object, op)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Namespace != tc.wantNS || r.Resource.Resource != tc.wantRes {
				t.Errorf("namespace %q resource %q, want %q %q", r.Namespace, r.Resource.Resource, tc.wantNS, tc.wantRes)
			}
			if s := r.Subject(); r.Kind.Kind != "Namespace" && s.GetNamespace() != tc.wantNS {
				t.Errorf("object namespace %q, want %q", s.GetNamespace(), tc.wantNS)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}
