package source

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/verdict-dev/verdict/policies/bundle"
)

// TestReadCluster reads a fake cluster once: its policies (status and managed fields left out), the
// Namespaces, the params kind a policy names (ConfigMap), the --sync kinds it serves, and nothing else.
func TestReadCluster(t *testing.T) {
	served := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "namespaces", Kind: "Namespace"}, {Name: "configmaps", Kind: "ConfigMap", Namespaced: true},
			{Name: "secrets", Kind: "Secret", Namespaced: true}, {Name: "services", Kind: "Service", Namespaced: true}}},
		{GroupVersion: "admissionregistration.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "validatingadmissionpolicies", Kind: "ValidatingAdmissionPolicy"}, {Name: "validatingadmissionpolicybindings", Kind: "ValidatingAdmissionPolicyBinding"}}},
		{GroupVersion: "templates.gatekeeper.sh/v1", APIResources: []metav1.APIResource{{Name: "constrainttemplates", Kind: "ConstraintTemplate"}}},
		{GroupVersion: "constraints.gatekeeper.sh/v1beta1", APIResources: []metav1.APIResource{{Name: "k8steamlabels", Kind: "K8sTeamLabel"}}},
	}
	objs := []runtime.Object{fromYAML(t, teamTemplate), fromYAML(t, teamConstraint)}
	for _, doc := range strings.Split(paramPolicy, "---\n") {
		objs = append(objs, fromYAML(t, doc))
	}
	for _, y := range []string{
		`{apiVersion: v1, kind: Namespace, metadata: {name: verdict-system}}`,
		`{apiVersion: v1, kind: ConfigMap, metadata: {name: limits, namespace: verdict-system}, data: {max: "3"}}`,
		`{apiVersion: v1, kind: Secret, metadata: {name: token, namespace: verdict-system}}`,
		`{apiVersion: v1, kind: Service, metadata: {name: web, namespace: verdict-system}}`,
	} {
		objs = append(objs, fromYAML(t, y))
	}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, l := range served {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			listKinds[gv.WithResource(r.Name)] = r.Kind + "List"
		}
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	disc := &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: served}}
	sync := []schema.GroupVersionKind{{Version: "v1", Kind: "Secret"}, {Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}}

	extra, err := readCluster(context.Background(), disc, client, "https://cluster", sync, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(objs []*unstructured.Unstructured) []string {
		var out []string
		for _, o := range objs {
			out = append(out, describeObject(o))
		}
		return out
	}
	wantPolicies := []string{`ValidatingAdmissionPolicy "replicas-from-params"`, `ValidatingAdmissionPolicyBinding "replicas-from-params"`,
		`K8sTeamLabel "deployments-need-a-team"`, `ConstraintTemplate "k8steamlabel"`}
	if diff := cmp.Diff(wantPolicies, names(extra.Policies)); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	var objects, inventory []*unstructured.Unstructured
	for _, d := range extra.Objects {
		objects = append(objects, d.Object)
	}
	for _, d := range extra.Inventory {
		inventory = append(inventory, d.Object)
	}
	if diff := cmp.Diff([]string{`ConfigMap "verdict-system/limits"`, `Namespace "verdict-system"`}, names(objects)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`Secret "verdict-system/token"`}, names(inventory)); diff != "" {
		t.Errorf("inventory (-want +got):\n%s", diff)
	}
	for _, p := range extra.Policies {
		if _, ok := p.Object["status"]; ok || len(p.GetManagedFields()) > 0 {
			t.Errorf("%s keeps its status or managed fields", describeObject(p))
		}
	}

	// Compiled alone, as verdict audit does without -p: the template, the constraint and the policy
	// with its params judge.
	b, skipped, err := Compile(context.Background(), bundle.Options{AllowEmpty: true}, extra, logr.Discard())
	if err != nil || len(skipped) != 0 || b.Policies != 2 {
		t.Fatalf("compiling the cluster's policies alone: %v, skipped %v, %d policies, want 2", err, skipped, b.Policies)
	}
}

func TestReadClusterUnreachable(t *testing.T) {
	disc := &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{}}
	disc.AddReactor("get", "group", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, context.DeadlineExceeded
	})
	_, err := readCluster(context.Background(), disc, nil, "https://cluster", nil, bundle.Options{})
	if err == nil || !strings.Contains(err.Error(), "asking the API server at https://cluster which kinds it serves: ") {
		t.Errorf("error %v, want one that names the server and what failed", err)
	}
}
