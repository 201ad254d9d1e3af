package gatekeeper_test

import (
	"context"
	"fmt"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/gatekeeper"
)

func ExampleCompile() {
	docs, err := manifest.Decode("policy.yaml", []byte(`
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snolatest}
spec:
  crd: {spec: {names: {kind: K8sNoLatest}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8snolatest
      violation[{"msg": msg}] {
        c := input.review.object.spec.containers[_]
        endswith(c.image, ":latest")
        msg := sprintf("container <%v> uses latest", [c.name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata: {name: no-latest}
spec:
  enforcementAction: warn
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: web, image: "nginx:latest"}]
`)).Result()
	if err != nil {
		panic(err)
	}
	set, _, err := gatekeeper.Compile(context.Background(), docs, gatekeeper.Options{Store: policies.NewStore()})
	if err != nil {
		panic(err)
	}
	pod := docs[2].Object
	out := set.Validate(context.Background(), &policies.Request{
		Kind: pod.GroupVersionKind(), Name: pod.GetName(), Namespace: pod.GetNamespace(),
		Operation: policies.Create, Object: pod,
	})
	for _, f := range out.Findings {
		fmt.Printf("%s %s/%s (%s): %s\n", f.Action, f.Policy, f.Binding, f.Engine, f.Message)
	}
	// Output:
	// warn k8snolatest/no-latest (rego): container <web> uses latest
}
