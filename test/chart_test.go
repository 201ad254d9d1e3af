package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// helmLabels are the labels the chart adds to every object's metadata and config/default does not:
// Helm's own (managed-by, chart) and those naming the release and the app's version. The parity test
// drops them; nothing else may differ.
var helmLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}

// kustomizeHash is the suffix configMapGenerator gives the policies ConfigMap's name (and every
// reference to it): the chart's ConfigMap has the plain name.
var kustomizeHash = regexp.MustCompile(`^(verdict-policies)-[a-z0-9]{10}$`)

// helm finds the helm that make tools installs (HELM overrides it).
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	h, err := filepath.Abs("../bin/tools/helm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h); err != nil {
		t.Skip("helm is not installed: make tools installs it into bin/tools")
	}
	return h
}

// decodeAll decodes a stream of YAML documents.
func decodeAll(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// normalize keys objects by kind/namespace/name, with Helm's labels dropped and kustomize's name hash
// removed, so that equal installs compare equal.
func normalize(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		o = o.DeepCopy()
		if labels := o.GetLabels(); labels != nil {
			for _, l := range helmLabels {
				delete(labels, l)
			}
			o.SetLabels(labels)
		}
		o.SetName(kustomizeHash.ReplaceAllString(o.GetName(), "$1"))
		if o.GetKind() == "Deployment" {
			volumes, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
			for _, v := range volumes {
				if cm, ok := v.(map[string]any)["configMap"].(map[string]any); ok {
					cm["name"] = kustomizeHash.ReplaceAllString(cm["name"].(string), "$1")
				}
			}
			_ = unstructured.SetNestedSlice(o.Object, volumes, "spec", "template", "spec", "volumes")
		}
		out[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = o
	}
	return out
}

// renderChart runs helm template on charts/verdict as release verdict in verdict-system.
func renderChart(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", "verdict", "../charts/verdict", "--namespace", "verdict-system"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	return out
}

// TestChartMatchesKustomize: the chart's default render installs the objects config/default does,
// with the same specs; only Helm's labels (helmLabels) and the ConfigMap generator's hash differ.
func TestChartMatchesKustomize(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		kustomized, _ := render(t, "../config/default")
		sameObjects(t, kustomized, renderChart(t))
	})
	// The optional kustomize components and the values that stand for them.
	t.Run("mutating and pods-exec", func(t *testing.T) {
		kustomized, _ := render(t, WithComponents(t, "../config", "mutating", "pods-exec"))
		sameObjects(t, kustomized, renderChart(t, "--set", "mutating.enabled=true,webhook.podsExec=true"))
	})
}

// sameObjects compares two renders, normalized.
func sameObjects(t *testing.T, kustomized, helmed []byte) {
	t.Helper()
	want := normalize(decodeAll(t, kustomized))
	got := normalize(decodeAll(t, helmed))
	keys := func(m map[string]*unstructured.Unstructured) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		sort.Strings(k)
		return k
	}
	if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
		t.Fatalf("objects (-kustomize +helm):\n%s", diff)
	}
	for key, w := range want {
		if diff := cmp.Diff(w.Object, got[key].Object); diff != "" {
			t.Errorf("%s (-kustomize +helm):\n%s", key, diff)
		}
	}
}

// TestChartValues renders the chart with its optional parts and checks what each value changes.
func TestChartValues(t *testing.T) {
	find := func(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
		for _, o := range objs {
			if o.GetKind() == kind && (name == "" || o.GetName() == name) {
				return o
			}
		}
		return nil
	}
	t.Run("defaults leave the optional parts out", func(t *testing.T) {
		objs := decodeAll(t, renderChart(t))
		for _, kind := range []string{"ServiceMonitor", "NetworkPolicy"} {
			if find(objs, kind, "") != nil {
				t.Errorf("the default render has a %s", kind)
			}
		}
		if find(objs, "Service", "verdict-metrics") != nil {
			t.Error("the default render has a metrics Service")
		}
	})
	t.Run("everything on, a provided certificate, an existing ConfigMap", func(t *testing.T) {
		objs := decodeAll(t, renderChart(t,
			"--set", "replicas=1,webhook.failurePolicy=Ignore,namespace.create=false",
			"--set", "certificates.certManager=false,certificates.secretName=my-tls,certificates.caBundle=Q0E=",
			"--set", "policies.existingConfigMap=my-policies",
			"--set", "metrics.service.enabled=true,metrics.serviceMonitor.enabled=true,networkPolicy.enabled=true",
			"--set", "webhook.excludedNamespaces={kube-system,flux-system}"))
		for _, kind := range []string{"Namespace", "Certificate", "Issuer", "ConfigMap"} {
			if o := find(objs, kind, ""); o != nil {
				t.Errorf("%s %s rendered, want none", kind, o.GetName())
			}
		}
		for _, want := range []struct{ kind, name string }{{"ServiceMonitor", "verdict"}, {"NetworkPolicy", "verdict-webhook"}, {"Service", "verdict-metrics"}} {
			if find(objs, want.kind, want.name) == nil {
				t.Errorf("no %s %s", want.kind, want.name)
			}
		}
		d := find(objs, "Deployment", "")
		if r, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); fmt.Sprint(r) != "1" {
			t.Errorf("replicas %v, want 1", r)
		}
		volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
		wantVolumes := []any{
			map[string]any{"name": "serving-certs", "secret": map[string]any{"secretName": "my-tls"}},
			map[string]any{"name": "policies", "configMap": map[string]any{"name": "my-policies"}},
		}
		if diff := cmp.Diff(wantVolumes, volumes); diff != "" {
			t.Errorf("volumes (-want +got):\n%s", diff)
		}
		vwc := find(objs, "ValidatingWebhookConfiguration", "")
		if len(vwc.GetAnnotations()) != 0 {
			t.Errorf("annotations %v without cert-manager", vwc.GetAnnotations())
		}
		hook := vwc.Object["webhooks"].([]any)[0].(map[string]any)
		if hook["failurePolicy"] != "Ignore" || hook["clientConfig"].(map[string]any)["caBundle"] != "Q0E=" {
			t.Errorf("webhook %v", hook)
		}
		values := hook["namespaceSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)["values"]
		if diff := cmp.Diff([]any{"kube-system", "flux-system", "verdict-system"}, values); diff != "" {
			t.Errorf("excluded namespaces (-want +got):\n%s", diff)
		}
	})
	t.Run("inline policies", func(t *testing.T) {
		objs := decodeAll(t, renderChart(t, "--set-string", "policies.inline.mine\\.rego=package mine"))
		data, _, _ := unstructured.NestedStringMap(find(objs, "ConfigMap", "").Object, "data")
		if diff := cmp.Diff(map[string]string{"mine.rego": "package mine"}, data); diff != "" {
			t.Errorf("ConfigMap data (-want +got):\n%s", diff)
		}
	})
	t.Run("cert-manager off without a CA bundle fails", func(t *testing.T) {
		cmd := exec.Command(helm(t), "template", "verdict", "../charts/verdict", "--set", "certificates.certManager=false")
		if out, err := cmd.CombinedOutput(); err == nil || !bytes.Contains(out, []byte("certificates.caBundle")) {
			t.Errorf("helm template: %v\n%s", err, out)
		}
	})
}

// TestChartPoliciesMatchConfig keeps the chart's copy of the policies equal to config/policies (make
// manifests copies both).
func TestChartPoliciesMatchConfig(t *testing.T) {
	want, _ := filepath.Glob("../config/policies/*.yaml")
	got, _ := filepath.Glob("../charts/verdict/files/policies/*.yaml")
	if len(got) != len(want)-1 { // config/policies also holds its kustomization.yaml
		t.Errorf("charts/verdict/files/policies has %d files, config/policies %d policy files (run make manifests)", len(got), len(want)-1)
	}
	for _, p := range got {
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join("../config/policies", filepath.Base(p)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("charts/verdict/files/policies/%s differs from config/policies (run make manifests)", filepath.Base(p))
		}
	}
}
