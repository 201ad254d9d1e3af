package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// TestChartInstall applies what charts/verdict renders to a real API server with server-side dry
// run, by default and with its optional parts: every object must pass the API server's validation
// (the webhook's matchConditions CEL, the Deployment's pod spec, the NetworkPolicy's ports). The
// Namespace is created for real, since a dry-run Namespace holds nothing. cert-manager's and
// prometheus-operator's kinds are left out: envtest has neither's CRDs.
func TestChartInstall(t *testing.T) {
	helm, err := filepath.Abs(filepath.Join("..", "..", "bin", "tools", "helm"))
	if err != nil {
		t.Fatal(err)
	}
	if h := os.Getenv("HELM"); h != "" {
		helm = h
	}
	if _, err := os.Stat(helm); err != nil {
		t.Skip("helm is not installed: make tools installs it into bin/tools")
	}
	env := controlplane.Start(t)
	objects := newApplier(t, env)
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{name: "defaults"},
		{name: "optional parts", set: []string{"--set", "namespace.create=false,certificates.certManager=false,certificates.caBundle=Q0E=",
			"--set", "metrics.service.enabled=true,networkPolicy.enabled=true,fromCluster=false,policies.existingConfigMap=mine",
			"--set", "mutating.enabled=true,webhook.podsExec=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(helm, append([]string{"template", "verdict", filepath.Join("..", "..", "charts", "verdict"), "--namespace", "verdict-system"}, tc.set...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr.String())
			}
			dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
			applied := 0
			for {
				obj := &unstructured.Unstructured{}
				if err := dec.Decode(&obj.Object); err != nil {
					break
				}
				if len(obj.Object) == 0 || obj.GroupVersionKind().Group == "cert-manager.io" || obj.GetKind() == "ServiceMonitor" {
					continue
				}
				if obj.GetKind() == "Namespace" {
					objects.put(t, obj)
					applied++
					continue
				}
				res := objects.resource(t, obj)
				if _, err := res.Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "helm", Force: true, DryRun: []string{metav1.DryRunAll}}); err != nil {
					t.Errorf("applying %s %q (dry run): %v", obj.GetKind(), obj.GetName(), err)
				}
				applied++
			}
			if applied < 5 {
				t.Fatalf("applied %d objects of the chart, want at least 5:\n%s", applied, out)
			}
		})
	}
}
