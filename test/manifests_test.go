package test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/check"
	"github.com/verdict-dev/verdict/policies/job"
	"github.com/verdict-dev/verdict/policies/library"
)

// TestConfigPoliciesMatchLibrary keeps the policies the install manifests serve equal to the embedded
// default set (make manifests copies them).
func TestConfigPoliciesMatchLibrary(t *testing.T) {
	lib, err := filepath.Glob("../policies/library/policies/*.yaml")
	if err != nil || len(lib) == 0 {
		t.Fatalf("no library policies: %v", err)
	}
	for _, p := range lib {
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join("../config/policies", filepath.Base(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("config/policies/%s differs from the library (run make manifests)", filepath.Base(p))
		}
	}
}

// TestKustomizeRenders renders config/default with kubectl and judges verdict's own Deployment with
// its default policies: what it installs must pass what it enforces.
func TestKustomizeRenders(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", "../config/default").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v\n%s", err, out)
	}
	docs, err := manifest.Decode("config/default", out).Result()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, d := range docs {
		kinds[d.Object.GetKind()]++
	}
	for _, k := range []string{"Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
		"PodDisruptionBudget", "Certificate", "ConfigMap", "Namespace"} {
		if kinds[k] == 0 {
			t.Errorf("config/default renders no %s", k)
		}
	}
	// As a user pipes it: `kubectl kustomize config/default | verdict check -`, cert-manager's kinds
	// judged as written, every object judged.
	report, err := check.Run(context.Background(), job.Options{Policies: bundle.Options{Library: library.FS}, Inputs: []string{"-"}, Stdin: bytes.NewReader(out)})
	if err != nil {
		t.Fatal(err)
	}
	if report.Failed() || report.Summary.Objects != len(docs) {
		t.Errorf("judged %d of %d objects, errors %v", report.Summary.Objects, len(docs), report.Errors)
	}
	for _, r := range report.Results {
		if r.Kind == "Deployment" && (r.Action == "deny" || strings.HasPrefix(r.Policy, "pod-security")) {
			t.Errorf("verdict's own Deployment: %s %s: %s", r.Action, r.Policy, r.Message)
		}
	}
}
