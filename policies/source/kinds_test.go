package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func group(name string, versions ...string) *metav1.APIGroup {
	g := &metav1.APIGroup{Name: name}
	for _, v := range versions {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: schema.GroupVersion{Group: name, Version: v}.String(), Version: v})
	}
	return g
}

func resources(gv string, kinds ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: gv}
	for _, k := range kinds {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: k + "s", Kind: k}, metav1.APIResource{Name: k + "s/status", Kind: k})
	}
	return l
}

func TestDiscoverKinds(t *testing.T) {
	groups := []*metav1.APIGroup{
		group("", "v1"),
		group("admissionregistration.k8s.io", "v1", "v1beta1"),
		group("templates.gatekeeper.sh", "v1", "v1beta1"),
		group("constraints.gatekeeper.sh", "v1beta1", "v1alpha1"),
		group("networking.k8s.io", "v1"),
	}
	lists := []*metav1.APIResourceList{
		resources("v1", "Namespace", "ConfigMap"),
		resources("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"),
		resources("admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy", "MutatingAdmissionPolicy"),
		resources("templates.gatekeeper.sh/v1", "ConstraintTemplate"),
		resources("templates.gatekeeper.sh/v1beta1", "ConstraintTemplate"),
		resources("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels"),
		resources("constraints.gatekeeper.sh/v1alpha1", "K8sRequiredLabels", "K8sOld"),
		resources("networking.k8s.io/v1", "Ingress"),
	}
	d := discoverKinds(groups, lists)
	want := []schema.GroupVersionKind{
		{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicy"},
		{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicyBinding"},
		{Group: "admissionregistration.k8s.io", Version: "v1beta1", Kind: "MutatingAdmissionPolicy"},
		{Group: "templates.gatekeeper.sh", Version: "v1", Kind: "ConstraintTemplate"},
		{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Kind: "K8sRequiredLabels"},
		{Group: "constraints.gatekeeper.sh", Version: "v1alpha1", Kind: "K8sOld"},
	}
	if diff := cmp.Diff(want, d.policies); diff != "" {
		t.Errorf("policy kinds (-want +got):\n%s", diff)
	}

	cm := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	ingress := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
	absent := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Absent"}
	got := wantedKinds(d, map[schema.GroupVersionKind]bool{cm: true, absent: true}, []schema.GroupVersionKind{ingress, namespaceKind, absent})
	wantRoles := map[schema.GroupVersionKind]role{
		namespaceKind: roleObject | roleInventory,
		cm:            roleObject,
		ingress:       roleInventory,
	}
	for _, gvk := range want {
		wantRoles[gvk] = rolePolicy
	}
	if diff := cmp.Diff(wantRoles, got); diff != "" {
		t.Errorf("wanted kinds (-want +got):\n%s", diff)
	}
}

func TestParamKinds(t *testing.T) {
	objs := []*unstructured.Unstructured{fromYAML(t, brokenPolicy), fromYAML(t, teamTemplate)}
	objs = append(objs, fromYAML(t, `{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingAdmissionPolicy, metadata: {name: m}, spec: {paramKind: {apiVersion: example.com/v1, kind: Limits}}}`))
	objs = append(objs, fromYAML(t, `{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingAdmissionPolicy, metadata: {name: v}, spec: {paramKind: {apiVersion: v1, kind: ConfigMap}}}`))
	want := map[schema.GroupVersionKind]bool{{Group: "example.com", Version: "v1", Kind: "Limits"}: true, {Version: "v1", Kind: "ConfigMap"}: true}
	if diff := cmp.Diff(want, paramKinds(objs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseKind(t *testing.T) {
	tests := []struct {
		in   string
		want schema.GroupVersionKind
		bad  bool
	}{
		{in: "v1/Namespace", want: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}},
		{in: "networking.k8s.io/v1/Ingress", want: schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}},
		{in: "Namespace", bad: true},
		{in: "v1/", bad: true},
		{in: "/Namespace", bad: true},
		{in: "a/b/c/Kind", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseKind(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("error = %v, want an error: %v", err, tc.bad)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
