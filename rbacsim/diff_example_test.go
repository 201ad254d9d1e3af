package rbacsim_test

import (
	"fmt"

	"github.com/verdict-dev/verdict/rbacsim"
)

func ExampleDiff() {
	const binding = `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
`
	old, _ := rbacsim.Parse("old.yaml", []byte(binding+"rules: [{apiGroups: [''], resources: [pods, configmaps], verbs: [get, list]}]\n"))
	new, _ := rbacsim.Parse("new.yaml", []byte(binding+"rules: [{apiGroups: [''], resources: ['*'], verbs: [get, list]}]\n"))
	for _, c := range rbacsim.Diff(rbacsim.NewModel(old), rbacsim.NewModel(new)) {
		fmt.Println(c.Sentence())
	}
	// Output:
	// User alice gains get,list * in namespace team-a (risky), via RoleBinding team-a/read → ClusterRole reader
}
