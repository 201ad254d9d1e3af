package main

import "testing"

func TestRBACEscalations(t *testing.T) {
	in := rbacData + "escalations/inputs.yaml"
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"every subject", []string{"rbac", "escalations", "-f", in}, 0, "escalations/all.txt"},
		{"one user, followed", []string{"rbac", "escalations", "-f", in, "--as", "alice", "--depth", "2", "-o", "json"}, 0, "escalations/alice-depth2.json"},
		{"a service account", []string{"rbac", "escalations", "-f", in, "--as", "system:serviceaccount:x:builder"}, 0, "escalations/builder.txt"},
		{"nobody", []string{"rbac", "escalations", "-f", in, "--as", "nobody"}, 0, "escalations/nobody.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			goldenRBAC(t, tt.golden, out)
		})
	}
	if code, _, _ := runCLI(t, "", "rbac", "escalations", "-f", in, "--depth", "0"); code != 2 {
		t.Errorf("--depth 0: exit %d, want 2", code)
	}
}
