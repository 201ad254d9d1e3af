package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/internal/testkit"
)

const rbacData = "testdata/rbac/"

// canICase is a run of verdict rbac can-i ARGS -f RBAC: its exit code, its whole standard output,
// and a part of its standard error.
type canICase struct {
	name       string
	args       []string
	code       int
	out        string
	errContain string
}

func runCanI(t *testing.T, rbac string, tests []canICase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"rbac", "can-i"}, tt.args...)
			args = append(args, "-f", rbac)
			code, out, errOut := runCLI(t, "", args...)
			if code != tt.code || out != tt.out {
				t.Errorf("got exit %d, stdout %q; want %d, %q (stderr %q)", code, out, tt.code, tt.out, errOut)
			}
			if tt.errContain != "" && !strings.Contains(errOut, tt.errContain) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.errContain)
			}
		})
	}
}

// goldenCase is a run of verdict ARGS: its exit code, and its standard output as the golden file
// testdata/rbac/GOLDEN.
type goldenCase struct {
	name   string
	args   []string
	code   int
	golden string
}

func runGoldenRBAC(t *testing.T, tests []goldenCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			goldenRBAC(t, tt.golden, out)
		})
	}
}

func goldenRBAC(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join(rbacData, name), []byte(got))
}

func TestRBACCanI(t *testing.T) {
	rbac := rbacData + "rbac.yaml"
	tests := []canICase{
		{"yes via aggregated edit", []string{"list", "pods", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder"}, 0, "yes\n", ""},
		{"short name", []string{"create", "deploy", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder"}, 0, "yes\n", ""},
		{"CRD short name, aggregated", []string{"delete", "wd", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder"}, 0, "yes\n", ""},
		{"other namespace", []string{"list", "pods", "-n", "team-b", "--as", "system:serviceaccount:team-a:builder"}, 1, "no\n", ""},
		{"default namespace", []string{"list", "pods", "--as", "system:serviceaccount:team-a:builder"}, 1, "no\n", ""},
		{"all namespaces is cluster-wide", []string{"list", "pods", "-A", "--as", "system:serviceaccount:team-a:builder"}, 1, "no\n", ""},
		{"group", []string{"get", "secrets", "-n", "team-a", "--as", "carol", "--as-group", "dev"}, 0, "yes\n", ""},
		{"groups replace SA groups", []string{"get", "secrets", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder", "--as-group", "x"}, 0, "yes\n", ""},
		{"subresource and name", []string{"update", "deployments.apps/web", "--subresource", "scale", "-n", "team-a", "--as", "system:serviceaccount:default:read-only-user"}, 0, "yes\n", ""},
		{"resource name needed", []string{"get", "configmaps", "-n", "team-a", "--as", "system:serviceaccount:default:read-only-user"}, 1, "no\n", ""},
		{"view cannot read secrets", []string{"get", "secrets", "-A", "--as", "alice"}, 1, "no\n", ""},
		{"masters", []string{"delete", "nodes/n1", "--as", "root", "--as-group", "system:masters"}, 0, "yes\n", "Warning: resource 'nodes' is not namespace scoped"},
		{"unknown type warns and splits", []string{"get", "gadgets.example.com", "-n", "team-a", "--as", "alice"}, 1, "no\n", "Warning: the server doesn't have a resource type 'gadgets' in group 'example.com'"},
		{"unknown verb warns", []string{"frobnicate", "pods", "-n", "team-a", "--as", "alice"}, 1, "no\n", "Warning: verb 'frobnicate' is not a known verb"},
		{"non-resource URL without defaults", []string{"get", "/healthz", "--as", "alice"}, 1, "no\n", ""},
		{"non-resource URL with defaults", []string{"get", "/healthz", "--as", "alice", "--with-defaults"}, 0, "yes\n", ""},
		{"skipped documents are noted", []string{"get", "pods", "--as", "alice"}, 0, "yes\n", `note: testdata/rbac/rbac.yaml:78: document 11 (ServiceAccount "team-a/builder"): skipped, not an RBAC object`},
		{"no --as", []string{"get", "pods"}, 2, "", "--as USER is required"},
		{"--as-group without --as", []string{"get", "pods", "--as-group", "dev"}, 2, "", "--as-group needs --as"},
		{"one argument", []string{"get", "--as", "alice"}, 2, "", "expected two arguments"},
		{"URL with subresource", []string{"get", "/healthz", "--subresource", "x", "--as", "alice"}, 2, "", "--subresource cannot be used"},
		{"-n with -A", []string{"get", "pods", "-n", "x", "-A", "--as", "alice"}, 2, "", "cannot be used together"},
	}
	runCanI(t, rbac, tests)
}

func TestRBACInputErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed document", []string{"rbac", "can-i", "get", "pods", "--as", "a", "-f", rbacData + "malformed.yaml"},
			`error: testdata/rbac/malformed.yaml:5: document 2 (ClusterRole "broken"): rules[0].verbs: Required value`},
		{"missing file", []string{"rbac", "who-can", "get", "pods", "-f", rbacData + "nope.yaml"}, "no such file"},
		{"no inputs", []string{"rbac", "who-can", "get", "pods"}, "no RBAC manifests"},
		{"missing kubeconfig", []string{"rbac", "can-i", "get", "pods", "--as", "a", "--kubeconfig", rbacData + "nope.kubeconfig"}, "--kubeconfig testdata/rbac/nope.kubeconfig: "},
		{"bad output", []string{"rbac", "who-can", "get", "pods", "-o", "yaml", "-f", rbacData + "rbac.yaml"}, "unknown output format"},
		{"checks unknown field", []string{"rbac", "check", "-f", rbacData + "rbac.yaml", "--checks", rbacData + "checks-unknown-field.yaml"}, `unknown field "expect"`},
		{"checks missing", []string{"rbac", "check", "-f", rbacData + "rbac.yaml"}, "--checks CHECKS.yaml is required"},
		{"unknown flag", []string{"rbac", "can-i", "--nope"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

func TestRBACStdin(t *testing.T) {
	data, err := os.ReadFile(rbacData + "rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, string(data), "rbac", "can-i", "patch", "deployments", "-n", "team-a", "--as", "carol", "--as-group", "dev", "-f", "-")
	if code != 0 || out != "yes\n" {
		t.Errorf("exit %d, %q; want 0, yes", code, out)
	}
}

func TestRBACGolden(t *testing.T) {
	rbac := rbacData + "rbac.yaml"
	tests := []struct {
		golden string
		code   int
		args   []string
	}{
		{"list-builder.txt", 0, []string{"can-i", "--list", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder", "-f", rbac}},
		{"list-alice-defaults.txt", 0, []string{"can-i", "--list", "--as", "alice", "--with-defaults", "-f", rbac}},
		{"list-masters-defaults.txt", 0, []string{"can-i", "--list", "--as", "root", "--as-group", "system:masters", "--with-defaults", "-f", rbac}},
		{"list-anonymous-defaults.txt", 0, []string{"can-i", "--list", "--as", "system:anonymous", "-n", "team-a", "--with-defaults", "-f", rbac}},
		{"explain-yes.txt", 0, []string{"can-i", "update", "deployments.apps/web", "--subresource", "scale", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder", "--explain", "-f", rbac}},
		{"explain-no.txt", 1, []string{"can-i", "delete", "deployments/web", "-n", "team-a", "--as", "system:serviceaccount:default:read-only-user", "--explain", "-f", rbac}},
		{"explain-namespace.txt", 1, []string{"can-i", "get", "deployments", "-n", "team-b", "--as", "system:serviceaccount:team-a:builder", "--explain", "-f", rbac}},
		{"who-can.txt", 0, []string{"who-can", "get", "deployments", "-n", "team-a", "-f", rbac}},
		{"who-can-all.json", 0, []string{"who-can", "get", "deployments.apps", "-A", "-o", "json", "--with-defaults", "-f", rbac}},
		{"who-can-none.json", 0, []string{"who-can", "escalate", "clusterroles", "-o", "json", "-f", rbac}},
		{"check.txt", 1, []string{"check", "-f", rbac, "--checks", rbacData + "checks.yaml"}},
		{"check.json", 1, []string{"check", "-f", rbac, "--checks", rbacData + "checks.yaml", "-o", "json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"rbac"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if strings.HasSuffix(tt.golden, ".json") && !json.Valid([]byte(out)) {
				t.Errorf("output is not JSON: %q", out)
			}
			goldenRBAC(t, tt.golden, out)
		})
	}
}

func TestRBACListStderr(t *testing.T) {
	rbac := rbacData + "rbac.yaml"
	tests := []struct {
		name       string
		args       []string
		errContain []string
	}{
		{"kubectl would be refused the review", []string{"--as", "alice", "--as-group", "system:unauthenticated", "--with-defaults"},
			[]string{`Warning: kubectl would be refused: User "alice" cannot create resource "selfsubjectrulesreviews"`}},
		{"no defaults, no basic-user", []string{"-n", "team-a", "--as", "system:serviceaccount:team-a:builder"},
			[]string{"Warning: kubectl would be refused"}},
		{"missing role", []string{"-n", "team-a", "--as", "system:serviceaccount:team-a:builder", "--with-defaults"},
			[]string{`note: the rules review's evaluationError (kubectl does not show it): role.rbac.authorization.k8s.io "gone" not found`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"rbac", "can-i", "--list", "-f", rbac}, tt.args...)...)
			if code != 0 || !strings.HasPrefix(out, "Resources   ") {
				t.Errorf("exit %d, stdout %q; want 0 and a table", code, out)
			}
			for _, want := range tt.errContain {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
		})
	}
	if _, _, errOut := runCLI(t, "", "rbac", "can-i", "--list", "--as", "alice", "--with-defaults", "-f", rbac); strings.Contains(errOut, "Warning") {
		t.Errorf("alice with defaults: stderr %q, want no warning", errOut)
	}
}
