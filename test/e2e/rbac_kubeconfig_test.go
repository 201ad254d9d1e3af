package e2e

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/rbacsim/cluster"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// TestRBACKubeconfig runs `verdict rbac can-i --kubeconfig` against a real kube-apiserver and checks
// that it answers as `kubectl auth can-i --as` does there: RBAC objects, aggregation and CRD type
// names all come from the cluster.
func TestRBACKubeconfig(t *testing.T) {
	env := controlplane.Start(t)
	if out, err := env.Kubectl(t, "apply", "-f", filepath.Join("testdata", "rbac", "cluster.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	if out, err := env.Kubectl(t, "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=60s").CombinedOutput(); err != nil {
		t.Fatalf("kubectl wait: %v\n%s", err, out)
	}
	env.StartAggregation(t)
	live, err := cluster.Read(t.Context(), env.Config)
	if err != nil {
		t.Fatal(err)
	}
	waitAggregated(t, env.Clientset, rbacsim.NewModel(live))
	verdict := buildVerdict(t)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"edit through a group", []string{"create", "pods", "-n", "team-a", "--as", "bob", "--as-group", "dev"}, "yes"},
		{"aggregated into edit", []string{"get", "widgets", "-n", "team-a", "--as", "bob", "--as-group", "dev"}, "yes"},
		{"CRD short name", []string{"delete", "wd", "-n", "team-a", "--as", "bob", "--as-group", "dev"}, "yes"},
		{"CRD subresource", []string{"update", "widgets.example.com", "--subresource", "status", "-n", "team-a", "--as", "bob", "--as-group", "dev"}, "yes"},
		{"edit reads secrets", []string{"get", "secrets", "-n", "team-a", "--as", "bob", "--as-group", "dev"}, "yes"},
		{"other namespace", []string{"get", "secrets", "-n", "default", "--as", "bob", "--as-group", "dev"}, "no"},
		{"service account without namespace", []string{"update", "deployments.apps/web", "--subresource", "scale", "-n", "team-a", "--as", "system:serviceaccount:team-a:ci"}, "yes"},
		{"other resource name", []string{"update", "deployments/db", "--subresource", "scale", "-n", "team-a", "--as", "system:serviceaccount:team-a:ci"}, "no"},
		{"subresource of a named object", []string{"get", "pods/p1", "--subresource", "log", "-n", "team-a", "--as", "alice"}, "yes"},
		{"not the parent resource", []string{"get", "pods", "-n", "team-a", "--as", "system:serviceaccount:team-a:ci"}, "no"},
		{"URL prefix", []string{"get", "/healthz/etcd", "--as", "carol", "--as-group", "ops"}, "yes"},
		{"other URL", []string{"get", "/metrics", "--as", "carol", "--as-group", "ops"}, "no"},
		// (kubectl cannot ask for system:anonymous, who may not create SelfSubjectAccessReviews; the
		// parity test asks for it with SubjectAccessReviews.)
		{"public info", []string{"get", "/version", "--as", "erin"}, "yes"},
		{"view cluster-wide", []string{"list", "pods", "-A", "--as", "system:serviceaccount:kube-system:auditor"}, "yes"},
		{"view without secrets", []string{"list", "secrets", "-A", "--as", "system:serviceaccount:kube-system:auditor"}, "no"},
		{"aggregated to edit, not view", []string{"list", "widgets", "-n", "team-a", "--as", "system:serviceaccount:kube-system:auditor"}, "no"},
		{"basic user", []string{"create", "selfsubjectaccessreviews.authorization.k8s.io", "--as", "dave"}, "yes"},
		{"system:masters", []string{"delete", "nodes", "--as", "root", "--as-group", "system:masters"}, "yes"},
		{"bootstrap controller role", []string{"update", "deployments.apps", "--subresource", "status", "-A", "--as", "system:serviceaccount:kube-system:deployment-controller"}, "yes"},
		{"bootstrap Role in kube-public", []string{"watch", "configmaps", "-n", "kube-public", "--as", "system:serviceaccount:kube-system:bootstrap-signer"}, "yes"},
		{"scheduler", []string{"create", "bindings", "-n", "team-a", "--as", "system:kube-scheduler"}, "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kubectl := env.Kubectl(t, append([]string{"auth", "can-i"}, tt.args...)...)
			kubeOut, kubeCode, kubeErr := answer(t, kubectl)
			cmd := exec.CommandContext(t.Context(), verdict, append(append([]string{"rbac", "can-i"}, tt.args...), "--kubeconfig", env.Kubeconfig)...)
			out, code, errOut := answer(t, cmd)
			if out != kubeOut || code != kubeCode {
				t.Errorf("verdict says %q (exit %d, stderr %q), kubectl auth can-i says %q (exit %d, stderr %q)", out, code, errOut, kubeOut, kubeCode, kubeErr)
			}
			if kubeOut != tt.want {
				t.Errorf("kubectl auth can-i says %q, the test expects %q", kubeOut, tt.want)
			}
		})
	}
}

// answer runs a can-i command and returns its first line of output, exit code and stderr.
func answer(t *testing.T, cmd *exec.Cmd) (string, int, string) {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	if code > 1 {
		t.Fatalf("%s: exit %d\n%s%s", cmd, code, out, stderr.String())
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first, code, stderr.String()
}

// buildVerdict builds the verdict command into a temporary folder.
func buildVerdict(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verdict")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/verdict-dev/verdict/cmd/verdict")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
