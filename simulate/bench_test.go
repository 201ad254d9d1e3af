package simulate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/rbacsim"
)

// benchManifests are n objects of an application's apply: a Namespace, then ConfigMaps,
// Deployments, Pods, Services' ServiceAccounts and RoleBindings in turn, in shop.
func benchManifests(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: restricted}}\n")
	for i := 1; i < n; i++ {
		b.WriteString("---\n")
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: shop}\ndata: {a: b}\n", i)
		case 1:
			fmt.Fprintf(&b, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-%d, namespace: shop}\nspec: {replicas: %d, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: nginx:1.27}]}}}\n", i, 1+i%5)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata: {name: pod-%d, namespace: shop}\nspec: {containers: [{name: c, image: nginx:1.27}]}\n", i)
		case 3:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-%d, namespace: shop}\n", i)
		case 4:
			fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb-%d, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: sa-%d}]\n", i, i-1)
		}
	}
	return b.String()
}

// BenchmarkRun1000 simulates the apply of 1,000 objects by a namespace admin, with a new
// cluster's RBAC and a ValidatingAdmissionPolicy: the simulated cluster's start, then every object
// through every stage.
func BenchmarkRun1000(b *testing.B) {
	docs := decode(b, "m.yaml", benchManifests(1000))
	rbac, err := rbacsim.DefaultObjects()
	if err != nil {
		b.Fatal(err)
	}
	grants, err := rbacsim.Parse("grants.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: ops}]
`))
	if err != nil {
		b.Fatal(err)
	}
	rbac.Append(grants)
	path := filepath.Join(b.TempDir(), "policies.yaml")
	if err := os.WriteFile(path, []byte(benchPolicy), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	policies, err := bundle.Load(ctx, bundle.Options{Paths: []string{path}})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := rbacsim.Impersonate("alice", []string{"ops"})
	b.ResetTimer()
	for b.Loop() {
		rep, err := Run(ctx, docs, Options{User: u, RBAC: rbac, Policies: policies})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Results) != 1000 {
			b.Fatalf("%d results", len(rep.Results))
		}
	}
}

const benchPolicy = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  validations:
  - expression: object.spec.replicas <= 3
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas}
spec: {policyName: replicas, validationActions: [Deny]}
`
