// Package verify runs policy unit tests (`verdict verify`): Gatekeeper Suite files
// (test.gatekeeper.sh/v1alpha1) with the semantics of `gator verify`, and verdict's own Suite files
// (verdict.dev/v1alpha1) for every policy format. It finds suites, runs every case, and reports one
// result per case as text, JSON or JUnit.
//
// In a Gatekeeper suite, objects are judged exactly as written, as gator judges them: no namespace is
// filled in, a plain manifest is reviewed without an operation, an AdmissionReview is reviewed as its
// request (UPDATE and DELETE cases), a case's inventory becomes data.inventory and its Namespaces are
// the only ones namespaceSelector knows. Every violation counts, whatever the constraint's
// enforcementAction, and a Rego evaluation error counts as a violation with the error as its message,
// as gator counts them. Where a ConstraintTemplate has both a Rego and a K8sNativeValidation block,
// each case runs under both engines, and engines that disagree fail the case.
//
// A verdict suite judges a case as `verdict check` and `verdict mutate` judge a manifest: the
// mutating policies run first, then the validating policies judge the mutated object.
//
//	apiVersion: verdict.dev/v1alpha1
//	kind: Suite
//	metadata:
//	  name: replicas
//	policies: [policies.yaml, labels.rego]   # files or folders, relative to the suite
//	objects: [params.yaml]                   # params, Namespaces, CRDs the policies read
//	inventory: []                            # data.inventory of Gatekeeper templates
//	tests:
//	- name: max-replicas
//	  policies: []                           # optional: replaces the suite's
//	  cases:
//	  - name: too-many-in-prod
//	    object: deployment.yaml              # one object per file
//	    oldObject: old.yaml                  # optional; the operation defaults to CREATE,
//	    operation: UPDATE                    # UPDATE with both objects, DELETE with only oldObject
//	    namespace: {name: shop, labels: {env: prod}}
//	    userInfo: {username: alice, groups: [dev]}
//	    assertions:                          # each holds one kind of assertion
//	    - allowed: false
//	    - violations: 1                      # yes, no or a count of deny findings;
//	      policy: max-replicas               # warnings and audits count the others
//	      message: "^replicas must be at most 3$"
//	    - warnings: no
//	    - auditAnnotations: {max-replicas/replicas: "5"}
//	    - object: expected.yaml              # the object after the mutating policies
//
// It is not a policy engine: templates are compiled by policies/gatekeeper, other policies by
// policies/bundle.
package verify
