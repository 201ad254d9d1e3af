package manifest

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestServedByDefault(t *testing.T) {
	tests := []struct {
		gvk        schema.GroupVersionKind
		served     bool
		resource   string
		namespaced bool
	}{
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, true, "deployments", true},
		{schema.GroupVersionKind{Group: "apps", Version: "v1beta1", Kind: "Deployment"}, false, "", false},
		{schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Ingress"}, false, "", false},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, true, "ingresses", true},
		{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1beta1", Kind: "Ingress"}, false, "", false},
		{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, true, "namespaces", false},
		{schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, true, "pods", true},
		{schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, true, "clusterroles", false},
		{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, true, "cronjobs", true},
		{schema.GroupVersionKind{Group: "batch", Version: "v1beta1", Kind: "CronJob"}, false, "", false},
		{schema.GroupVersionKind{Group: "policy", Version: "v1beta1", Kind: "PodSecurityPolicy"}, false, "", false},
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "deployment"}, false, "", false}, // exact kind only
		{schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.gvk.String(), func(t *testing.T) {
			r, ok := ServedByDefault(tt.gvk)
			if ok != tt.served {
				t.Fatalf("served = %v, want %v (%+v)", ok, tt.served, r)
			}
			if !ok {
				return
			}
			if r.Group != tt.gvk.Group || r.Version != tt.gvk.Version || r.Kind != tt.gvk.Kind {
				t.Errorf("entry %+v is not of %v", r, tt.gvk)
			}
			if r.Resource != tt.resource || r.Namespaced != tt.namespaced {
				t.Errorf("resource %q namespaced %v, want %q %v", r.Resource, r.Namespaced, tt.resource, tt.namespaced)
			}
		})
	}
}

func TestServedVersions(t *testing.T) {
	tests := []struct {
		gk   schema.GroupKind
		want []string
	}{
		{schema.GroupKind{Group: "apps", Kind: "Deployment"}, []string{"v1"}},
		{schema.GroupKind{Kind: "Pod"}, []string{"v1"}},
		{schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, []string{"v1"}},
		{schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}, []string{"v2", "v1"}},
		{schema.GroupKind{Group: "extensions", Kind: "Deployment"}, nil},
		{schema.GroupKind{Group: "example.com", Kind: "Widget"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.gk.String(), func(t *testing.T) {
			if got := ServedVersions(tt.gk); !slices.Equal(got, tt.want) {
				t.Errorf("ServedVersions(%v) = %v, want %v", tt.gk, got, tt.want)
			}
		})
	}
	// The result is the caller's.
	v := ServedVersions(schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"})
	v[0] = "changed"
	if again := ServedVersions(schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}); again[0] != "v2" {
		t.Errorf("ServedVersions returned shared state: %v", again)
	}
}

// TestServedVersionsPreferredFirst checks every kind: its first served version is the preferred one
// of its group whenever the preferred version serves it.
func TestServedVersionsPreferredFirst(t *testing.T) {
	for _, r := range BuiltinAPIResources() {
		versions := ServedVersions(schema.GroupKind{Group: r.Group, Kind: r.Kind})
		if !slices.Contains(versions, r.Version) {
			t.Errorf("%s %s/%s: ServedVersions = %v lacks %s", r.Kind, r.Group, r.Version, versions, r.Version)
		}
		if r.Preferred && versions[0] != r.Version {
			t.Errorf("%s %s: preferred version %s is not first in %v", r.Kind, r.Group, r.Version, versions)
		}
	}
}

func TestBuiltinAPIResources(t *testing.T) {
	all := BuiltinAPIResources()
	if len(all) == 0 {
		t.Fatal("no built-in resources")
	}
	if all[0].Group != "" || all[0].Version != "v1" {
		t.Errorf("the first entry is %s/%s, want the core group first", all[0].Group, all[0].Version)
	}
	type gvr struct{ group, version, resource string }
	seen := map[gvr]bool{}
	groupsDone := map[string]bool{}
	preferred := map[string]string{}
	for i, r := range all {
		key := gvr{r.Group, r.Version, r.Resource}
		if seen[key] {
			t.Errorf("%v listed twice", key)
		}
		seen[key] = true
		if r.Kind == "" || r.Version == "" || r.Resource == "" || r.Singular == "" || len(r.Verbs) == 0 {
			t.Errorf("incomplete entry %+v", r)
		}
		if !slices.IsSorted(r.Subresources) {
			t.Errorf("%v: subresources %v not sorted", key, r.Subresources)
		}
		if i > 0 && all[i-1].Group != r.Group {
			groupsDone[all[i-1].Group] = true
		}
		if groupsDone[r.Group] {
			t.Errorf("%v: group %q listed in two places", key, r.Group)
		}
		if r.Preferred {
			if p, ok := preferred[r.Group]; ok && p != r.Version {
				t.Errorf("group %q has two preferred versions, %s and %s", r.Group, p, r.Version)
			}
			preferred[r.Group] = r.Version
		}
	}
	for _, r := range all {
		if preferred[r.Group] == "" {
			t.Errorf("group %q has no preferred version", r.Group)
			preferred[r.Group] = "-" // once
		}
	}

	pods, ok := ServedByDefault(schema.GroupVersionKind{Version: "v1", Kind: "Pod"})
	if !ok || !slices.Contains(pods.Subresources, "exec") || !slices.Contains(pods.Subresources, "status") {
		t.Errorf("pods: %+v, want subresources exec and status", pods)
	}
	deploy, _ := ServedByDefault(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
	if !slices.Contains(deploy.Subresources, "scale") || !slices.Contains(deploy.ShortNames, "deploy") || !deploy.Preferred {
		t.Errorf("deployments: %+v, want subresource scale, short name deploy, preferred", deploy)
	}
	if _, ok := ServedByDefault(schema.GroupVersionKind{Version: "v1", Kind: "PodExecOptions"}); ok {
		t.Error("a subresource's kind (PodExecOptions) is served as a resource")
	}
}
