package rbacsim

import (
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/manifest"
)

func TestResolve(t *testing.T) {
	r := NewResolver([]ResourceInfo{{Group: "example.com", Version: "v1", Resource: "widgets", Singular: "widget", Kind: "Widget", ShortNames: []string{"wd"}, Namespaced: true}})
	tests := []struct {
		arg, group, resource string
		known, warn          bool
	}{
		{"pods", "", "pods", true, false},
		{"pod", "", "pods", true, false},
		{"po", "", "pods", true, false},
		{"Pods", "", "pods", true, false},
		{"Deployment", "apps", "deployments", true, false},
		{"deploy", "apps", "deployments", true, false},
		{"deployments.apps", "apps", "deployments", true, false},
		{"deploy.apps", "apps", "deployments", true, false},
		{"deployments.v1.apps", "apps", "deployments", true, false},
		{"events", "", "events", true, false},
		{"ev", "", "events", true, false},
		{"events.events.k8s.io", "events.k8s.io", "events", true, false},
		{"csr", "certificates.k8s.io", "certificatesigningrequests", true, false},
		{"netpol", "networking.k8s.io", "networkpolicies", true, false},
		{"hpa", "autoscaling", "horizontalpodautoscalers", true, false},
		{"crd", "apiextensions.k8s.io", "customresourcedefinitions", true, false},
		{"clusterroles.rbac.authorization.k8s.io", "rbac.authorization.k8s.io", "clusterroles", true, false},
		{"wd", "example.com", "widgets", true, false},
		{"widgets.example.com", "example.com", "widgets", true, false},
		{"*", "", "*", false, false},
		{"*.apps", "apps", "*", false, false},
		{"users", "", "users", false, false},
		{"groups", "", "groups", false, false},
		{"gadgets.example.com", "example.com", "gadgets", false, true},
		{"gadgets", "", "gadgets", false, true},
		{"deployments.extensions", "extensions", "deployments", false, true},
		// Not in discovery: a default kube-apiserver serves podcertificaterequests with no short name,
		// and leasecandidates only when coordination.k8s.io/v1beta1 is enabled.
		{"pcr", "", "pcr", false, true},
		{"leasecandidates.coordination.k8s.io", "coordination.k8s.io", "leasecandidates", false, true},
		{"hpa", "autoscaling", "horizontalpodautoscalers", true, false},
		{"horizontalpodautoscalers.v1.autoscaling", "autoscaling", "horizontalpodautoscalers", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got := r.Resolve(tt.arg)
			if got.Group != tt.group || got.Resource != tt.resource {
				t.Errorf("Resolve(%q) = %q %q, want %q %q", tt.arg, got.Group, got.Resource, tt.group, tt.resource)
			}
			if (got.Info != nil) != tt.known {
				t.Errorf("known = %v, want %v", got.Info != nil, tt.known)
			}
			if (got.Warning != "") != tt.warn {
				t.Errorf("warning = %q, want one: %v", got.Warning, tt.warn)
			}
		})
	}
}

// TestBuiltinResourcesPreference checks that a resource served in several versions is described by its
// group's preferred version, and that ambiguous names go to the core group first, as kubectl's REST
// mapper ranks discovery.
func TestBuiltinResourcesPreference(t *testing.T) {
	r := NewResolver(nil)
	for _, tt := range []struct{ arg, group, version string }{
		{"hpa", "autoscaling", "v2"},
		{"horizontalpodautoscalers.autoscaling", "autoscaling", "v2"},
		{"events", "", "v1"},
		{"ev", "", "v1"},
		{"event", "", "v1"},
		{"events.events.k8s.io", "events.k8s.io", "v1"},
		{"clustertrustbundles", "certificates.k8s.io", "v1"},
	} {
		got := r.Resolve(tt.arg)
		if got.Info == nil || got.Info.Group != tt.group || got.Info.Version != tt.version {
			t.Errorf("Resolve(%q).Info = %+v, want group %q version %q", tt.arg, got.Info, tt.group, tt.version)
		}
	}
	want := map[string]bool{}
	for _, res := range manifest.BuiltinAPIResources() {
		want[res.Resource+"."+res.Group] = true
	}
	if got := len(builtinResources()); got != len(want) {
		t.Errorf("%d built-in resources, want one per group and resource of manifest's table: %d", got, len(want))
	}
}

func TestBuiltinResourcesAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, info := range builtinResources() {
		key := info.Resource + "." + info.Group
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if info.Resource != strings.ToLower(info.Resource) || info.Singular == "" || info.Kind == "" || info.Version == "" {
			t.Errorf("%s: incomplete entry %+v", key, info)
		}
	}
}
