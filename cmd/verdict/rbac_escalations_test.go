package main

import "testing"

func TestRBACEscalations(t *testing.T) {
	in := rbacData + "escalations/inputs.yaml"
	tests := []goldenCase{
		{"every subject", []string{"rbac", "escalations", "-f", in}, 0, "escalations/all.txt"},
		{"one user, followed", []string{"rbac", "escalations", "-f", in, "--as", "alice", "--depth", "2", "-o", "json"}, 0, "escalations/alice-depth2.json"},
		{"a service account", []string{"rbac", "escalations", "-f", in, "--as", "system:serviceaccount:x:builder"}, 0, "escalations/builder.txt"},
		{"nobody", []string{"rbac", "escalations", "-f", in, "--as", "nobody"}, 0, "escalations/nobody.txt"},
	}
	runGoldenRBAC(t, tests)
	if code, _, _ := runCLI(t, "", "rbac", "escalations", "-f", in, "--depth", "0"); code != 2 {
		t.Errorf("--depth 0: exit %d, want 2", code)
	}
}
