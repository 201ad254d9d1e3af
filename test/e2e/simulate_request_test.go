package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/internal/testkit"
	"github.com/verdict-dev/verdict/simulate"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

// The cluster of TestSimulateRequestDelete: a namespace with two ConfigMaps, alice editing it, and a
// ValidatingAdmissionPolicy that refuses to delete a ConfigMap labelled protected.
const (
	requestExisting = `apiVersion: v1
kind: Namespace
metadata: {name: raw}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: raw}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: keep, namespace: raw, labels: {protected: "yes"}}
`
	requestRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edit, namespace: raw}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
`
	requestPolicies = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: keep-protected}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [DELETE], resources: [configmaps]}
  validations:
  - expression: "oldObject.metadata.?labels.?protected.orValue('') != 'yes'"
    message: protected ConfigMaps are not deleted
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: keep-protected}
spec: {policyName: keep-protected, validationActions: [Deny]}
`
)

// TestSimulateRequestDelete compares verdict simulate --request 'DELETE PATH' with kubectl delete
// --raw PATH?dryRun=All as the same user on a real kube-apiserver: allowed or refused, and the line
// kubectl prints (authorization, NotFound, NamespaceLifecycle, a ValidatingAdmissionPolicy on DELETE).
func TestSimulateRequestDelete(t *testing.T) {
	kubectl, err := controlplane.BuiltKubectl()
	if err != nil {
		if controlplane.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	env := controlplane.Start(t, controlplane.WithAPIServerFlags(map[string]string{"disable-admission-plugins": ""}))
	env.StartAggregation(t) // the edit role, as the controller-manager aggregates it
	dir := t.TempDir()
	files := map[string]string{"existing.yaml": requestExisting, "rbac.yaml": requestRBAC, "policies.yaml": requestPolicies}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), kubectl, append([]string{"--kubeconfig", env.Kubeconfig, "--cache-dir", filepath.Join(dir, "cache")}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return strings.TrimSpace(errOut.String()), err
	}
	for _, f := range []string{"existing.yaml", "rbac.yaml", "policies.yaml"} {
		if msg, err := run("apply", "-f", filepath.Join(dir, f)); err != nil {
			t.Fatalf("kubectl apply -f %s: %v: %s", f, err, msg)
		}
	}
	testkit.WaitFor(t, 30*time.Second, "the policy and alice's aggregated role in force", func() bool {
		_, plainErr := run("delete", "--raw", "/api/v1/namespaces/raw/configmaps/plain?dryRun=All", "--as", "alice")
		msg, err := run("delete", "--raw", "/api/v1/namespaces/raw/configmaps/keep?dryRun=All")
		return plainErr == nil && err != nil && strings.Contains(msg, "protected ConfigMaps are not deleted")
	})

	tests := []struct {
		name, as, path string
		groups         []string
	}{
		{"allowed", "alice", "/api/v1/namespaces/raw/configmaps/plain", nil},
		{"missing", "alice", "/api/v1/namespaces/raw/configmaps/missing", nil},
		{"not authorized", "alice", "/api/v1/namespaces/raw", nil},
		{"not authorized, missing", "bob", "/api/v1/namespaces/raw/configmaps/missing", nil},
		{"immortal namespace", "root", "/api/v1/namespaces/kube-system", []string{"system:masters"}},
		{"a namespace", "root", "/api/v1/namespaces/raw", []string{"system:masters"}},
		{"refused by a policy", "alice", "/api/v1/namespaces/raw/configmaps/keep", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"delete", "--raw", tt.path + "?dryRun=All", "--as", tt.as}
			for _, g := range tt.groups {
				args = append(args, "--as-group", g)
			}
			realMsg, realErr := run(args...)
			var exit *exec.ExitError
			if realErr != nil && !errors.As(realErr, &exit) {
				t.Fatalf("kubectl %v: %v", args, realErr)
			}
			in, err := simulate.Read(t.Context(), simulate.Paths{
				Existing: []string{filepath.Join(dir, "existing.yaml")}, RBAC: []string{filepath.Join(dir, "rbac.yaml")}, WithDefaults: true,
				Policies: []string{filepath.Join(dir, "policies.yaml")}, As: tt.as, AsGroups: tt.groups, Request: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := simulate.RunRequest(t.Context(), "DELETE "+tt.path+"?dryRun=All", nil, in.Options)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Refused(), realErr != nil; got != want {
				t.Fatalf("simulate refused %v (%s), kube-apiserver refused %v (%s)", got, res.Message, want, realMsg)
			}
			if realErr != nil && res.Message != realMsg {
				t.Errorf("simulate says\n  %s\nkubectl says\n  %s", res.Message, realMsg)
			}
			if realErr == nil && res.Outcome != simulate.Deleted {
				t.Errorf("outcome %s, want deleted", res.Outcome)
			}
		})
	}
}
