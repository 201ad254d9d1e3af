package bundle

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/library"
)

const benchDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dev, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: registry.example.com/web:1.4.2
        resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

func benchRequest(b *testing.B, bun *Bundle) *policies.Request {
	b.Helper()
	docs, err := manifest.Decode("bench.yaml", []byte(benchDeployment)).Result()
	if err != nil {
		b.Fatal(err)
	}
	req, err := RequestFor(bun.Resources(), docs[0].Object, policies.Create, "")
	if err != nil {
		b.Fatal(err)
	}
	return req
}

func benchValidate(b *testing.B, opts Options) {
	bun, err := Load(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest(b, bun)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := bun.Validate(ctx, req)
		if len(out.Errors) > 0 {
			b.Fatal(out.Errors)
		}
	}
}

// BenchmarkValidateDefaultSet judges one Deployment against the whole embedded library.
func BenchmarkValidateDefaultSet(b *testing.B) {
	benchValidate(b, Options{Library: library.FS})
}

// BenchmarkValidateCEL judges one Deployment against one ValidatingAdmissionPolicy with one validation.
func BenchmarkValidateCEL(b *testing.B) {
	benchValidate(b, Options{Library: fstest.MapFS{"p.yaml": {Data: []byte(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  validations:
  - expression: object.spec.replicas <= 5
    message: at most 5 replicas
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: max-replicas}
spec: {policyName: max-replicas, validationActions: [Deny]}
`)}}})
}

// BenchmarkValidateRego judges one Deployment against one plain Rego policy.
func BenchmarkValidateRego(b *testing.B) {
	benchValidate(b, Options{Library: fstest.MapFS{"p.rego": {Data: []byte(`package k8s.replicas
deny contains msg if {
	input.kind == "Deployment"
	input.spec.replicas > 5
	msg := "at most 5 replicas"
}
`)}}})
}
