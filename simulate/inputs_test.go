package simulate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// clusterVAP refuses ConfigMaps with a "forbidden" key, as a policy the cluster holds.
const clusterVAP = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-forbidden}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  validations: [{expression: "!has(object.data) || !('forbidden' in object.data)", message: no forbidden key}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-forbidden}
spec: {policyName: no-forbidden, validationActions: [Deny]}
`

// TestReadClusterPolicies: the admission policies among --existing are in force, as the cluster's
// own, beside -p; one that -p defines too is -p's.
func TestReadClusterPolicies(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	existing := write("existing.yaml", shop+"---\n"+clusterVAP)
	policies := write("policies.yaml", clusterVAP)
	apply := write("m.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {forbidden: 'yes'}\n")
	const denial = `The configmaps "c" is invalid: : ValidatingAdmissionPolicy 'no-forbidden' with binding 'no-forbidden' denied request: no forbidden key`
	for _, tc := range []struct {
		name     string
		policies []string
	}{{"the cluster's alone", nil}, {"the same policy in -p too", []string{policies}}} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Read(context.Background(), Paths{Files: []string{apply}, Existing: []string{existing}, WithDefaults: true,
				Policies: tc.policies, As: "root", AsGroups: []string{"system:masters"}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), in.Documents, in.Options)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, &rep.Results[0], want{kind: "ConfigMap", name: "c", outcome: "refused", stage: "validating", message: denial})
		})
	}
}

// TestAdmissionPolicyValidation: an admission policy is validated by its registry strategy, as the
// API server validates it: its CEL compiled, its generation set.
func TestAdmissionPolicyValidation(t *testing.T) {
	broken := "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: broken}\n" +
		"spec:\n  matchConstraints: {resourceRules: [{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]}\n" +
		"  validations: [{expression: 'object.nope +'}]\n"
	rep := run(t, "olga", clusterVAP+"---\n"+broken, "", "", false)
	if len(rep.Results) != 3 {
		t.Fatalf("%d results", len(rep.Results))
	}
	if rep.Results[0].Object == nil {
		t.Fatalf("%+v", rep.Results[0])
	}
	if g := rep.Results[0].Object.GetGeneration(); g != 1 {
		t.Errorf("generation %d, want 1", g)
	}
	checkResult(t, &rep.Results[2], want{kind: "ValidatingAdmissionPolicy", name: "broken", outcome: "refused", stage: "validation",
		message: `The ValidatingAdmissionPolicy "broken" is invalid: spec.validations[0].expression: Invalid value: "object.nope +": compilation failed: ...`})
}
