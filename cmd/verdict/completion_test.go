package main

import (
	"strings"
	"testing"
)

// complete asks cobra's hidden __complete command what the shell would offer, as the scripts of
// verdict completion bash|zsh|fish do, and returns the offered values.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, stdout, stderr := runCLI(t, "", append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.HasPrefix(line, ":") { // the last line is the directive
			out = append(out, strings.SplitN(line, "\t", 2)[0])
		}
	}
	return out
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_verdict", "zsh": "#compdef verdict", "fish": "complete -c verdict"} {
		code, stdout, stderr := runCLI(t, "", "completion", shell)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit %d, %q does not contain %q (%s)", shell, code, stdout[:min(len(stdout), 200)], want, stderr)
		}
	}
}

func TestCompletionValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // all offered
		not  []string // none offered
	}{
		{name: "check -o", args: []string{"check", "-o", ""}, want: []string{"table", "json", "yaml", "junit", "sarif", "github"}},
		{name: "mutate -o", args: []string{"mutate", "-o", ""}, want: []string{"yaml", "json"}, not: []string{"table"}},
		{name: "version -o", args: []string{"version", "-o", ""}, want: []string{"text", "json"}},
		{name: "rbac who-can -o, from its usage", args: []string{"rbac", "who-can", "-o", ""}, want: []string{"table", "json"}},
		{name: "check --operation", args: []string{"check", "--operation", ""}, want: []string{"CREATE", "UPDATE", "DELETE"}},
		{name: "mutate --operation", args: []string{"mutate", "--operation", ""}, want: []string{"CREATE", "UPDATE"}, not: []string{"DELETE"}},
		{name: "can-i verbs", args: []string{"rbac", "can-i", ""}, want: []string{"get", "list", "create", "impersonate", "escalate"}},
		{name: "can-i types", args: []string{"rbac", "can-i", "get", ""}, want: []string{"pods", "deployments.apps", "clusterroles.rbac.authorization.k8s.io"}, not: []string{"deployments"}},
		{name: "who-can types", args: []string{"rbac", "who-can", "list", ""}, want: []string{"secrets"}},
		{name: "can-i -n from -f", args: []string{"rbac", "can-i", "get", "pods", "-f", rbacData + "rbac.yaml", "-n", ""}, want: []string{"team-a"}},
		{name: "can-i --as from -f", args: []string{"rbac", "can-i", "get", "pods", "-f", rbacData + "rbac.yaml", "--as", ""},
			want: []string{"alice", "system:serviceaccount:team-a:builder", "system:serviceaccount:default:read-only-user"}, not: []string{"dev"}},
		{name: "can-i --as-group from -f", args: []string{"rbac", "can-i", "get", "pods", "-f", rbacData + "rbac.yaml", "--as-group", ""}, want: []string{"dev"}},
		{name: "no -f, no names", args: []string{"rbac", "can-i", "get", "pods", "--as", ""}, not: []string{"alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := complete(t, tc.args...)
			has := map[string]bool{}
			for _, g := range got {
				has[g] = true
			}
			for _, w := range tc.want {
				if !has[w] {
					t.Errorf("%q not offered; got %v", w, got)
				}
			}
			for _, n := range tc.not {
				if has[n] {
					t.Errorf("%q offered", n)
				}
			}
		})
	}
}
