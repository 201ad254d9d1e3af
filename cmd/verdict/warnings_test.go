package main

import (
	"strings"
	"testing"
)

// TestNondeterministicPoliciesWarn loads a plain Rego module that calls rand.intn and a Gatekeeper
// template that calls time.now_ns: both stay allowed, and each gets a warning naming where it is.
func TestNondeterministicPoliciesWarn(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "check", "-p", "testdata/nondeterministic", "testdata/verify-now/settings.yaml")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (the policies are allowed)\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Warning: testdata/nondeterministic/lottery.rego:6:28: rule deny calls rand.intn, which is not deterministic",
		`Warning: testdata/nondeterministic/expired-template.yaml:2: ConstraintTemplate "k8sexpired": `,
		"rule violation calls time.now_ns, which is not deterministic",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
}
