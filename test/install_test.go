package test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/rbacsim"
)

// render runs kubectl kustomize on a folder of config/ and decodes what it prints.
func render(t *testing.T, dir string) ([]byte, []manifest.Document) {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	docs, err := manifest.Decode(dir, out).Result()
	if err != nil {
		t.Fatal(err)
	}
	return out, docs
}

// find returns the rendered objects of a kind.
func find(docs []manifest.Document, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, d := range docs {
		if d.Object.GetKind() == kind {
			out = append(out, d.Object)
		}
	}
	return out
}

// TestInstallServiceAccountReads asks verdict's RBAC simulator, over what config/default installs and
// the roles every cluster has, whether the Deployment's ServiceAccount may read everything
// `verdict serve --from-cluster` watches (webhook/cluster.go, webhook/kinds.go): the cache lists and
// watches each kind in every namespace, and discovery reads /api and /apis. A binding to an account
// that the install does not make (or in another namespace) grants nothing, and /readyz never passes.
func TestInstallServiceAccountReads(t *testing.T) {
	out, docs := render(t, "../config/default")
	deployments := find(docs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("config/default renders %d Deployments, want 1", len(deployments))
	}
	ns := deployments[0].GetNamespace()
	name, _, _ := unstructured.NestedString(deployments[0].Object, "spec", "template", "spec", "serviceAccountName")
	if ns == "" || name == "" {
		t.Fatalf("the Deployment names no namespace (%q) or ServiceAccount (%q)", ns, name)
	}
	if !slices.ContainsFunc(find(docs, "ServiceAccount"), func(sa *unstructured.Unstructured) bool {
		return sa.GetName() == name && sa.GetNamespace() == ns
	}) {
		t.Errorf("the Deployment runs as ServiceAccount %s/%s, which config/default does not make", ns, name)
	}

	objs, err := rbacsim.DefaultObjects()
	if err != nil {
		t.Fatal(err)
	}
	installed, err := rbacsim.Parse("config/default", out)
	if err != nil {
		t.Fatal(err)
	}
	objs.Append(installed)
	model := rbacsim.NewModel(objs)
	account := "system:serviceaccount:" + ns + ":" + name
	u, err := rbacsim.Impersonate(account, nil)
	if err != nil {
		t.Fatal(err)
	}
	type read struct{ group, resource string }
	reads := []read{
		{"admissionregistration.k8s.io", "validatingadmissionpolicies"},
		{"admissionregistration.k8s.io", "validatingadmissionpolicybindings"},
		{"admissionregistration.k8s.io", "mutatingadmissionpolicies"},
		{"admissionregistration.k8s.io", "mutatingadmissionpolicybindings"},
		{"templates.gatekeeper.sh", "constrainttemplates"},
		{"constraints.gatekeeper.sh", "k8srequiredlabels"}, // any constraint kind
		{"", "namespaces"},
		{"", "configmaps"}, // the paramKind of the default set's require-labels
	}
	for _, r := range reads {
		for _, verb := range []string{"get", "list", "watch"} {
			attrs := authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: r.group, Resource: r.resource, ResourceRequest: true}
			if d, reason, _ := model.Authorize(context.Background(), attrs); d != authorizer.DecisionAllow {
				t.Errorf("%s cannot %s %s.%s in all namespaces: %s", account, verb, r.resource, r.group, reason)
			}
		}
	}
	for _, path := range []string{"/api", "/api/v1", "/apis", "/apis/admissionregistration.k8s.io/v1"} {
		attrs := authorizer.AttributesRecord{User: u, Verb: "get", Path: path}
		if d, reason, _ := model.Authorize(context.Background(), attrs); d != authorizer.DecisionAllow {
			t.Errorf("%s cannot discover %s: %s", account, path, reason)
		}
	}
	// Read-only: nothing it watches may be written with its token.
	for _, verb := range []string{"create", "update", "patch", "delete"} {
		attrs := authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: "templates.gatekeeper.sh", Resource: "constrainttemplates", ResourceRequest: true}
		if d, _, _ := model.Authorize(context.Background(), attrs); d == authorizer.DecisionAllow {
			t.Errorf("%s may %s constrainttemplates", account, verb)
		}
	}
}

// TestInstallWebhookScope keeps the webhook registration to what needs judging, as Gatekeeper's
// install and the API server's admission webhook good practices do: a webhook that fails closed
// must not stand in the way of the node agents, the scheduler or the control plane's namespaces.
func TestInstallWebhookScope(t *testing.T) {
	_, docs := render(t, "../config/default")
	if m := find(docs, "MutatingWebhookConfiguration"); len(m) != 0 {
		t.Errorf("config/default installs a MutatingWebhookConfiguration, but the default set mutates nothing")
	}
	validating := find(docs, "ValidatingWebhookConfiguration")
	if len(validating) != 1 {
		t.Fatalf("config/default renders %d ValidatingWebhookConfigurations, want 1", len(validating))
	}
	checkWebhooks(t, validating[0])

	_, withExec := render(t, WithComponents(t, "../config", "pods-exec"))
	if v := find(withExec, "ValidatingWebhookConfiguration"); len(v) != 1 || !registers(v[0], "CONNECT", "pods/exec") {
		t.Errorf("config/components/pods-exec does not register CONNECT pods/exec")
	}
	if registers(validating[0], "CONNECT", "pods/exec") {
		t.Errorf("config/default registers CONNECT pods/exec")
	}

	_, withMutating := render(t, WithComponents(t, "../config", "mutating", "pods-exec"))
	mutating := find(withMutating, "MutatingWebhookConfiguration")
	if len(mutating) != 1 {
		t.Fatalf("config/components/mutating renders %d MutatingWebhookConfigurations, want 1", len(mutating))
	}
	checkWebhooks(t, mutating[0])
	webhooks, _, _ := unstructured.NestedSlice(mutating[0].Object, "webhooks")
	for _, w := range webhooks {
		name, _, _ := unstructured.NestedString(w.(map[string]any), "clientConfig", "service", "name")
		ns, _, _ := unstructured.NestedString(w.(map[string]any), "clientConfig", "service", "namespace")
		if name != "verdict-webhook" || ns != "verdict-system" {
			t.Errorf("the mutating webhook calls Service %s/%s, want verdict-system/verdict-webhook", ns, name)
		}
	}
	if ann := mutating[0].GetAnnotations()["cert-manager.io/inject-ca-from"]; ann != "verdict-system/verdict-serving-cert" {
		t.Errorf("the mutating webhook's CA comes from %q", ann)
	}
}

// registers says whether a webhook configuration's first webhook has a rule for op on resource.
func registers(cfg *unstructured.Unstructured, op, resource string) bool {
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	if len(webhooks) == 0 {
		return false
	}
	rules, _, _ := unstructured.NestedSlice(webhooks[0].(map[string]any), "rules")
	for _, r := range rules {
		ops, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "operations")
		resources, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
		if slices.Contains(ops, op) && slices.Contains(resources, resource) {
			return true
		}
	}
	return false
}

func checkWebhooks(t *testing.T, cfg *unstructured.Unstructured) {
	t.Helper()
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	if len(webhooks) == 0 {
		t.Fatalf("%s %s has no webhooks", cfg.GetKind(), cfg.GetName())
	}
	for _, w := range webhooks {
		w := w.(map[string]any)
		name, _ := w["name"].(string)
		rules, _, _ := unstructured.NestedSlice(w, "rules")
		for _, r := range rules {
			resources, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
			for _, res := range resources {
				if res != "*" && res != "pods/ephemeralcontainers" && res != "pods/exec" {
					t.Errorf("%s: rule registers %q: a subresource that no policy needs is a path that fails closed for nothing", name, res)
				}
			}
		}
		exprs, _, _ := unstructured.NestedSlice(w, "namespaceSelector", "matchExpressions")
		var excluded []string
		for _, e := range exprs {
			e := e.(map[string]any)
			if e["key"] == "kubernetes.io/metadata.name" && e["operator"] == "NotIn" {
				excluded, _, _ = unstructured.NestedStringSlice(e, "values")
			}
		}
		for _, ns := range []string{"kube-system", "kube-node-lease", "verdict-system"} {
			if !slices.Contains(excluded, ns) {
				t.Errorf("%s: namespace %s is not excluded (excluded: %q)", name, ns, excluded)
			}
		}
		conds, _, _ := unstructured.NestedSlice(w, "matchConditions")
		var all []string
		for _, c := range conds {
			e, _ := c.(map[string]any)["expression"].(string)
			all = append(all, e)
		}
		text := strings.Join(all, "\n")
		for _, want := range []string{"'system:nodes'", "'leases'", "'events'", "'binding'", "'bindings'"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: no matchCondition mentions %s:\n%s", name, want, text)
			}
		}
	}
}

// TestInstallMemoryLimit keeps the Go runtime's soft memory limit tied to the container's limit, and
// the container's security settings as the restricted Pod Security Standard wants them.
func TestInstallMemoryLimit(t *testing.T) {
	_, docs := render(t, "../config/default")
	deployments := find(docs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("config/default renders %d Deployments, want 1", len(deployments))
	}
	containers, _, _ := unstructured.NestedSlice(deployments[0].Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := containers[0].(map[string]any)
	env, _, _ := unstructured.NestedSlice(c, "env")
	found := false
	for _, e := range env {
		e := e.(map[string]any)
		if e["name"] != "GOMEMLIMIT" {
			continue
		}
		found = true
		ref, _, _ := unstructured.NestedStringMap(e, "valueFrom", "resourceFieldRef")
		if ref["resource"] != "limits.memory" || ref["divisor"] != "1" || ref["containerName"] != c["name"] {
			t.Errorf("GOMEMLIMIT comes from %v, want limits.memory of container %v with divisor 1", ref, c["name"])
		}
	}
	if !found {
		t.Error("the container has no GOMEMLIMIT")
	}
	if limit, _, _ := unstructured.NestedString(c, "resources", "limits", "memory"); limit == "" {
		t.Error("the container has no memory limit for GOMEMLIMIT to follow")
	}
	sc, _, _ := unstructured.NestedMap(c, "securityContext")
	if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true {
		t.Errorf("container securityContext: %v", sc)
	}
}
