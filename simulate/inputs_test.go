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
