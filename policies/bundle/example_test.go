package bundle_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// A policy set is loaded and compiled once, then judges requests; a manifest becomes a request as the
// API server would present it after kubectl apply.
func Example() {
	set := fstest.MapFS{
		"replicas.yaml": {Data: []byte(`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]
  validations:
  - expression: object.spec.replicas <= 3
    messageExpression: "'replicas must be at most 3, not ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: max-replicas}
spec: {policyName: max-replicas, validationActions: [Deny]}
`)},
		"labels.rego": {Data: []byte(`package k8s.labels

warn contains "no owner label" if not input.metadata.labels.owner
`)},
	}
	b, err := bundle.Load(context.Background(), bundle.Options{Library: set})
	if err != nil {
		panic(err)
	}
	docs, err := manifest.Decode("web.yaml", []byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`)).Result()
	if err != nil {
		panic(err)
	}
	req, err := bundle.RequestFor(b.Resources(), docs[0].Object, policies.Create, "")
	if err != nil {
		panic(err)
	}
	out := b.Validate(context.Background(), req)
	fmt.Println(req.Namespace, out.Denied())
	for _, f := range out.Findings {
		fmt.Printf("%s %s %s: %s\n", f.Action, f.Engine, f.Policy, f.Message)
	}
	// Output:
	// default true
	// deny cel max-replicas: replicas must be at most 3, not 5
	// warn rego k8s.labels: no owner label
}
