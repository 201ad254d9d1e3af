package main

import (
	"path/filepath"
	"testing"
)

// simulateArgs apply testdata/simulate/deploy.yaml as alice, with its RBAC objects, existing
// objects and policies.
var simulateArgs = []string{"simulate", "-f", "testdata/simulate/deploy.yaml", "--as", "alice",
	"--rbac", "testdata/simulate/rbac.yaml", "--with-defaults", "--existing", "testdata/simulate/existing.yaml",
	"-p", "testdata/simulate/policies.yaml"}

func TestSimulateFormats(t *testing.T) {
	for _, format := range []string{"table", "json", "junit", "sarif", "github"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append(simulateArgs, "-o", format)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (objects are refused); stderr:\n%s", code, errOut)
			}
			name := map[string]string{"table": "table.txt", "json": "json", "junit": "junit.xml", "sarif": "sarif", "github": "github.txt"}[format]
			golden(t, filepath.Join("testdata/simulate", "deploy."+name), out)
		})
	}
}

// TestSimulateCustomResourcesAndQuota applies Widgets, validated by their CRD of --existing, and a
// ConfigMap beyond the namespace's ResourceQuota (its status as the quota controller would write it:
// shop holds the ConfigMap of existing.yaml).
func TestSimulateCustomResourcesAndQuota(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "simulate", "-f", "testdata/simulate/widgets.yaml", "--as", "alice",
				"--rbac", "testdata/simulate/rbac.yaml", "--rbac", "testdata/simulate/widgets-rbac.yaml", "--with-defaults",
				"--existing", "testdata/simulate/existing.yaml", "--existing", "testdata/simulate/widgets-existing.yaml", "-o", format)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (objects are refused); stderr:\n%s", code, errOut)
			}
			golden(t, filepath.Join("testdata/simulate", "widgets."+map[string]string{"table": "table.txt", "json": "json"}[format]), out)
		})
	}
}

func TestSimulateExitCodes(t *testing.T) {
	cases := []cliCase{
		{"accepted", []string{"simulate", "-f", "-", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml", "--with-defaults", "--existing", "testdata/simulate/existing.yaml"},
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop}\n", 0, "", "ConfigMap shop/new: created (dry run)"},
		{"refused", []string{"simulate", "-f", "-", "--as", "bob", "--rbac", "testdata/simulate/rbac.yaml"},
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop}\n", 1, "", `User "bob" cannot get resource "configmaps"`},
		{"no manifests", []string{"simulate", "--as", "alice"}, "", 2, "no manifests given", ""},
		{"no user", []string{"simulate", "-f", "testdata/simulate/deploy.yaml"}, "", 2, "a user is required (--as)", ""},
		{"broken document", []string{"simulate", "-f", "-", "--as", "alice"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n", 2, "-:3: document 1: invalid YAML", ""},
		{"bad format", []string{"simulate", "-f", "-", "--as", "alice", "-o", "yaml"}, "", 2, `--output "yaml"`, ""},
		{"removed version", []string{"simulate", "-f", "-", "--as", "alice"}, "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n", 2, "document 1", ""},
		{"generate name", []string{"simulate", "-f", "-", "--as", "alice"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n", 2, "cannot use generate name with apply", ""},
		{"stdin twice", []string{"simulate", "-f", "-", "--rbac", "-", "--as", "alice"}, "", 2, "standard input can be read only once", ""},
		{"request allowed", []string{"simulate", "--request", "GET /api/v1/namespaces/shop/pods", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml", "--with-defaults"}, "", 0, "", "authorized (dry run)"},
		{"request refused", []string{"simulate", "--request", "DELETE /api/v1/namespaces/shop", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml"}, "", 1, "",
			`Error from server (Forbidden): namespaces "shop" is forbidden: User "alice" cannot delete resource "namespaces" in API group "" in the namespace "shop"`},
		{"request body", []string{"simulate", "--request", "POST /api/v1/namespaces/shop/pods", "--body", "-", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml", "--with-defaults", "--existing", "testdata/simulate/existing.yaml"},
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostPID: true, containers: [{name: c, image: i}]}\n", 1, "", `violates PodSecurity "baseline:latest": host namespaces (hostPID=true)`},
		{"request delete", []string{"simulate", "--request", "DELETE /api/v1/namespaces/shop/configmaps/settings", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml", "--with-defaults", "--existing", "testdata/simulate/existing.yaml"},
			"", 0, "", "shop/settings: deleted (dry run)\n1 objects: 0 created, 0 configured, 1 deleted, 0 refused"},
		{"request delete of a missing object", []string{"simulate", "--request", "DELETE /api/v1/namespaces/shop/configmaps/missing", "--as", "alice", "--rbac", "testdata/simulate/rbac.yaml", "--with-defaults", "--existing", "testdata/simulate/existing.yaml"},
			"", 1, "", `Error from server (NotFound): configmaps "missing" not found`},
		{"request delete of an immortal namespace", []string{"simulate", "--request", "DELETE /api/v1/namespaces/kube-system", "--as", "system:admin", "--as-group", "system:masters", "--with-defaults"},
			"", 1, "", `Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted`},
		{"bad request line", []string{"simulate", "--request", "GET", "--as", "alice"}, "", 2, "expected METHOD PATH", ""},
		{"body without request", []string{"simulate", "-f", "x", "--body", "y", "--as", "alice"}, "", 2, "--body needs --request", ""},
	}
	runCLICases(t, cases)
}
