package rbacsim

import (
	"strings"
	"testing"
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

func TestBuiltinResourcesAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, info := range builtinResources {
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
