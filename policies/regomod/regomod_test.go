package regomod

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/policies"
	vrego "github.com/verdict-dev/verdict/policies/rego"
)

func pod(labels map[string]any, image string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "dev", "labels": labels},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": image}}},
	}}
}

func podRequest(op policies.Operation, obj *unstructured.Unstructured) *policies.Request {
	req := &policies.Request{
		Kind: schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		Name: "p", Namespace: "dev", Operation: op,
	}
	if op == policies.Delete {
		req.OldObject = obj
	} else {
		req.Object = obj
	}
	return req
}

type got struct{ Policy, Action, Message string }

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		modules map[string]string
		req     *policies.Request
		want    []got
		wantErr string
	}{
		{
			name: "v1 deny contains",
			modules: map[string]string{"a.rego": `package main
deny contains msg if { input.kind == "Pod"; msg := "no pods" }`},
			req:  podRequest(policies.Create, pod(nil, "nginx")),
			want: []got{{"main", "deny", "no pods"}},
		},
		{
			name: "v0 partial set, violation and warn, with suffixes",
			modules: map[string]string{"a.rego": `package main
violation[msg] { msg := "v" }
deny_images[msg] { input.spec.containers[_].image == "nginx"; msg := "bad image" }
warn[msg] { not input.metadata.labels.app; msg := "no app label" }
warn_x_y[msg] { msg := "xy" }
denyfoo[msg] { msg := "not a deny rule" }`},
			req: podRequest(policies.Create, pod(nil, "nginx")),
			want: []got{
				{"main", "deny", "bad image"}, {"main", "deny", "v"},
				{"main", "warn", "no app label"}, {"main", "warn", "xy"},
			},
		},
		{
			name: "object messages carry msg",
			modules: map[string]string{"a.rego": `package k8s.pods
deny contains {"msg": "with metadata", "severity": "high"} if { true }`},
			req:  podRequest(policies.Create, pod(nil, "nginx")),
			want: []got{{"k8s.pods", "deny", "with metadata"}},
		},
		{
			name: "object message without msg is an error",
			modules: map[string]string{"a.rego": `package main
deny contains {"message": "x"} if { true }`},
			req:     podRequest(policies.Create, pod(nil, "nginx")),
			wantErr: "rule missing msg field",
		},
		{
			name: "boolean deny says nothing, as in conftest",
			modules: map[string]string{"a.rego": `package main
deny if { true }`},
			req: podRequest(policies.Create, pod(nil, "nginx")),
		},
		{
			name: "exception exempts a named rule",
			modules: map[string]string{"a.rego": `package main
deny_latest contains "latest" if { true }
deny_other contains "other" if { true }
exception contains rules if { input.metadata.labels.exempt == "yes"; rules := ["latest"] }`},
			req:  podRequest(policies.Create, pod(map[string]any{"exempt": "yes"}, "nginx")),
			want: []got{{"main", "deny", "other"}},
		},
		{
			name: "the old object on DELETE",
			modules: map[string]string{"a.rego": `package main
deny contains msg if { msg := sprintf("deleting %s", [input.metadata.name]) }`},
			req:  podRequest(policies.Delete, pod(nil, "nginx")),
			want: []got{{"main", "deny", "deleting p"}},
		},
		{
			name: "kubernetes.admission sees the AdmissionReview",
			modules: map[string]string{"a.rego": `package kubernetes.admission
deny contains msg if {
  input.request.kind.kind == "Pod"
  input.request.operation == "CREATE"
  image := input.request.object.spec.containers[_].image
  not startswith(image, "registry.example.com/")
  msg := sprintf("image %q comes from an untrusted registry (namespace %s)", [image, input.request.namespace])
}`},
			req:  podRequest(policies.Create, pod(nil, "nginx")),
			want: []got{{"kubernetes.admission", "deny", `image "nginx" comes from an untrusted registry (namespace dev)`}},
		},
		{
			name: "a package across two files, one importing a library",
			modules: map[string]string{
				"lib.rego":  "package lib.k8s\nimages contains img if { img := input.spec.containers[_].image }\n",
				"main.rego": "package main\nimport data.lib.k8s\ndeny contains msg if { some img in k8s.images; msg := img }\n",
				"more.rego": "package main\nwarn contains \"more\" if { true }\n",
			},
			req:  podRequest(policies.Create, pod(nil, "nginx")),
			want: []got{{"main", "deny", "nginx"}, {"main", "warn", "more"}},
		},
		{
			name: "a runtime error is reported, not a finding",
			modules: map[string]string{"a.rego": `package main
x := 1 if { true }
x := 2 if { true }
deny contains "d" if { x == 1 }`},
			req:     podRequest(policies.Create, pod(nil, "nginx")),
			wantErr: "package main: rule deny: ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mods []vrego.Module
			for name, src := range tc.modules {
				mods = append(mods, vrego.Module{Filename: name, Source: src})
			}
			set, err := Compile(context.Background(), mods, Options{})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			out := set.Validate(context.Background(), tc.req)
			if tc.wantErr != "" {
				if len(out.Errors) == 0 || !strings.Contains(out.Errors[0].Error(), tc.wantErr) {
					t.Fatalf("errors = %v, want one containing %q", out.Errors, tc.wantErr)
				}
				return
			}
			if len(out.Errors) > 0 {
				t.Fatalf("errors: %v", out.Errors)
			}
			var g []got
			for _, f := range out.Findings {
				if f.Engine != policies.Rego || f.Binding != "" {
					t.Errorf("finding %+v: want engine rego and no binding", f)
				}
				g = append(g, got{f.Policy, string(f.Action), f.Message})
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		allowed []string
		want    string
	}{
		{name: "syntax error with line and column", src: "package main\ndeny contains x if { x := input.foo[ }\n", want: "p.rego:2"},
		{name: "http.send refused", src: "package main\ndeny contains x if { x := http.send({\"method\": \"get\", \"url\": \"http://example.com\"}) }\n", want: "p.rego:2:27: rule deny calls http.send, which reaches outside the evaluation"},
		{name: "nested opa.runtime refused", src: "package main\ndeny contains x if { x := object.get(opa.runtime(), \"env\", {}) }\n", want: "rule deny calls opa.runtime"},
		{name: "net.lookup_ip_addr refused", src: "package main\nwarn contains x if { x := net.lookup_ip_addr(\"example.com\") }\n", want: "rule warn calls net.lookup_ip_addr"},
		{name: "unsafe builtin allowed by the operator", src: "package main\ndeny contains x if { x := opa.runtime().version }\n", allowed: []string{"opa.runtime"}},
		{name: "undefined reference", src: "package main\ndeny contains x if { x := undefined_fn(1) }\n", want: "p.rego:2: rego_type_error: undefined function undefined_fn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(context.Background(), []vrego.Module{{Filename: "p.rego", Source: tc.src}}, Options{AllowedBuiltins: tc.allowed})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMutate(t *testing.T) {
	mods := []vrego.Module{{Filename: "p.rego", Source: `package mutate.labels
patch contains {"op": "add", "path": "/metadata/labels/owner", "value": "team-a"} if { not input.metadata.labels.owner }
`}, {Filename: "q.rego", Source: `package mutate.zz
patch contains [{"op": "add", "path": "/metadata/annotations", "value": {"seen-owner": input.metadata.labels.owner}}] if { true }
`}}
	set, err := Compile(context.Background(), mods, Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := podRequest(policies.Create, pod(map[string]any{"app": "x"}, "nginx"))
	obj, errs := set.Mutate(context.Background(), req)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := obj.GetLabels()["owner"]; got != "team-a" {
		t.Errorf("owner label = %q, want team-a", got)
	}
	if got := obj.GetAnnotations()["seen-owner"]; got != "team-a" {
		t.Errorf("the second package saw owner %q, want the first package's team-a", got)
	}
	if _, changed := req.Object.GetLabels()["owner"]; changed {
		t.Error("Mutate changed the request's object")
	}

	bad, err := Compile(context.Background(), []vrego.Module{{Filename: "b.rego", Source: `package bad
patch contains {"op": "replace", "path": "/spec/nothere/x", "value": 1} if { true }
`}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := bad.Mutate(context.Background(), req); len(errs) == 0 {
		t.Error("a patch that does not apply gave no error")
	}
}
