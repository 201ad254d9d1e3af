package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// runCLI runs the command line as the binary would, with stdin, and returns the exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	testkit.Golden(t, path, []byte(got))
}

// cliCase is a run of verdict ARGS with STDIN: its exit code, and a part of its standard output and
// of its standard error.
type cliCase struct {
	name   string
	args   []string
	stdin  string
	code   int
	stderr string // must contain
	stdout string // must contain
}

func runCLICases(t *testing.T, tests []cliCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
		})
	}
}

// gkLib is the Gatekeeper library's test data.
const gkLib = "../../test/testdata/gatekeeper-library/general/"

func TestCheckExitCodes(t *testing.T) {
	pol := "testdata/check/policy.yaml"
	tests := []cliCase{
		{name: "nothing denied", args: []string{"check", "-p", pol, "testdata/check/fine.yaml"}, code: 0, stdout: "1 object checked: 0 denied, 0 warned"},
		{name: "warnings never fail", args: []string{"check", "-p", pol, "testdata/check/plain.yaml"}, code: 0, stdout: "warn    prefer-requests"},
		{name: "--fail-on-warn fails on a warning", args: []string{"check", "--fail-on-warn", "-p", pol, "testdata/check/plain.yaml"}, code: 1, stdout: "warn    prefer-requests"},
		{name: "--fail-on-warn passes what nothing warns about", args: []string{"check", "--fail-on-warn", "-p", pol, "testdata/check/fine.yaml"}, code: 0},
		{name: "a denial exits 1", args: []string{"check", "-p", pol, "testdata/check/privileged.yaml"}, code: 1, stdout: "privileged containers are not allowed"},
		{name: "a folder", args: []string{"check", "-p", pol, "-o", "json", "testdata/check/"}, code: 1, stdout: `"denied": 1`},
		{name: "stdin", args: []string{"check", "-p", pol, "-"}, stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}\n", code: 1, stdout: "Pod/default/s"},
		{name: "namespace flag", args: []string{"check", "-p", pol, "-n", "team-a", "testdata/check/privileged.yaml"}, code: 1, stdout: "Pod/team-a/root"},
		{name: "DELETE is not matched by a CREATE/UPDATE policy", args: []string{"check", "-p", pol, "--operation", "delete", "testdata/check/privileged.yaml"}, code: 0},
		{name: "bad output format", args: []string{"check", "-p", pol, "-o", "xml", "testdata/check/fine.yaml"}, code: 2, stderr: `--output "xml": must be one of`},
		{name: "bad operation", args: []string{"check", "-p", pol, "--operation", "PATCH", "testdata/check/fine.yaml"}, code: 2, stderr: "--operation"},
		{name: "no inputs", args: []string{"check", "-p", pol}, code: 2, stderr: "no manifests given"},
		{name: "unknown flag", args: []string{"check", "--bogus", "x"}, code: 2, stderr: "unknown flag: --bogus"},
		{name: "bad manifest", args: []string{"check", "-p", pol, "-"}, stdin: "kind: [\n", code: 2, stderr: "error: -:1: document 1: invalid YAML"},
		{name: "no object to check", args: []string{"check", "-p", pol, "-"}, stdin: "# nothing\n", code: 2, stderr: "error: no Kubernetes objects in -: nothing was judged"},
		{name: "no object to mutate", args: []string{"mutate", "-p", pol, "-"}, stdin: "", code: 2, stderr: "error: no Kubernetes objects in -: nothing was mutated"},
		{name: "bad policy", args: []string{"check", "-p", "-", "testdata/check/fine.yaml"}, stdin: "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: x}\nspec:\n  matchConstraints: {resourceRules: [{apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*']}]}\n  validations: [{expression: 'objec.x'}]\n", code: 2, stderr: "spec.validations[0].expression"},
		{name: "unknown command", args: []string{"chek"}, code: 2, stderr: "unknown command"},
		{name: "embedded library", args: []string{"check", "testdata/check/fine.yaml"}, code: 0},
		{name: "gatekeeper template and constraint", args: []string{"check", "-o", "json", "-p", gkLib + "requiredlabels/template.yaml", "-p", gkLib + "requiredlabels/samples/all-must-have-owner/constraint.yaml",
			gkLib + "requiredlabels/samples/all-must-have-owner/example_disallowed.yaml"}, code: 1, stdout: `"binding": "all-must-have-owner"`},
		{name: "gatekeeper inventory", args: []string{"check", "-p", gkLib + "uniqueingresshost/template.yaml", "-p", gkLib + "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
			"--inventory", gkLib + "uniqueingresshost/samples/unique-ingress-host/example_inventory_disallowed.yaml", gkLib + "uniqueingresshost/samples/unique-ingress-host/example_disallowed.yaml"},
			code: 1, stdout: "ingress host conflicts with an existing ingress"},
		{name: "gatekeeper without the inventory", args: []string{"check", "-p", gkLib + "uniqueingresshost/template.yaml", "-p", gkLib + "uniqueingresshost/samples/unique-ingress-host/constraint.yaml",
			gkLib + "uniqueingresshost/samples/unique-ingress-host/example_disallowed.yaml"}, code: 0},
	}
	runCLICases(t, tests)
}

func TestMutateOutputs(t *testing.T) {
	// --diff exits 1 when an object changes, as kubectl diff does.
	for _, tc := range []struct {
		name, flag string
		code       int
	}{{"yaml", "-oyaml", 0}, {"json", "-ojson", 0}, {"diff", "--diff", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "mutate", "-p", "testdata/mutate/policies.yaml", tc.flag, "testdata/mutate/inputs.yaml")
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			golden(t, filepath.Join("testdata", "mutate", "out."+tc.name), stdout)
		})
	}
}

func TestMutateRefusal(t *testing.T) {
	policy := `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: broken}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  mutations: [{patchType: JSONPatch, jsonPatch: {expression: '[JSONPatch{op: "remove", path: "/data/missing"}]'}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: broken}
spec: {policyName: broken}
`
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(p, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", "mutate", "-p", p, "-")
	if code != 2 || !strings.Contains(stderr, `ConfigMap "c": refused by MutatingAdmissionPolicy "broken" with binding "broken"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestMutateDiff(t *testing.T) {
	t.Run("no change exits 0 and prints nothing", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "mutate", "-p", "testdata/mutate/policies.yaml", "--diff", "-")
		if code != 0 || stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("-o with --diff is refused", func(t *testing.T) {
		for _, o := range []string{"-oyaml", "-ojson"} {
			code, stdout, stderr := runCLI(t, "", "mutate", "-p", "testdata/mutate/policies.yaml", "--diff", o, "testdata/mutate/inputs.yaml")
			if code != 2 || stdout != "" || !strings.Contains(stderr, "--output and --diff cannot be used together") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q", o, code, stdout, stderr)
			}
		}
	})
}
