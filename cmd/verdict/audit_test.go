package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// unreachableKubeconfig writes a kubeconfig of an API server where nothing listens.
func unreachableKubeconfig(t *testing.T) (path, server string) {
	t.Helper()
	server = "https://" + testkit.FreeAddr(t)
	path = filepath.Join(t.TempDir(), "kubeconfig")
	config := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, server
}

// The runs against a real cluster are in test/e2e (TestAudit).
func TestAuditBadInput(t *testing.T) {
	kubeconfig, server := unreachableKubeconfig(t)
	tests := []struct {
		name   string
		args   []string
		stderr []string // each must be in standard error
	}{
		{name: "no kubeconfig", args: []string{"audit"}, stderr: []string{"--kubeconfig is required"}},
		{name: "unknown format", args: []string{"audit", "--kubeconfig", kubeconfig, "-o", "yaml"}, stderr: []string{`--output "yaml": must be one of table, json, policyreport`}},
		{name: "coverage in a PolicyReport", args: []string{"audit", "--kubeconfig", kubeconfig, "-o", "policyreport", "--coverage"}, stderr: []string{"--coverage is written with -o table or json"}},
		{name: "no chunk size", args: []string{"audit", "--kubeconfig", kubeconfig, "--chunk-size", "0"}, stderr: []string{"--chunk-size 0: must be a positive number"}},
		{name: "bad --sync kind", args: []string{"audit", "--kubeconfig", kubeconfig, "--sync", "Ingress"}, stderr: []string{`--sync "Ingress": want GROUP/VERSION/KIND`}},
		{name: "policies from stdin", args: []string{"audit", "--kubeconfig", kubeconfig, "-p", "-"}, stderr: []string{"no policies from standard input"}},
		{name: "missing kubeconfig file", args: []string{"audit", "--kubeconfig", "no/such/file"}, stderr: []string{"--kubeconfig no/such/file: "}},
		{name: "unknown context", args: []string{"audit", "--kubeconfig", kubeconfig, "--context", "nope"}, stderr: []string{"--kubeconfig " + kubeconfig + ": ", `"nope"`}},
		{name: "unreachable API server", args: []string{"audit", "--kubeconfig", kubeconfig},
			stderr: []string{"reading the policies of the cluster of " + kubeconfig + " (" + server + "): asking the API server at " + server + " which kinds it serves: ", "connection refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != exitBadInput || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, exitBadInput)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q lacks %q", stderr, s)
				}
			}
		})
	}
}
