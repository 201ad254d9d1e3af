package rbacsim

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestAPIServerAuthorizer(t *testing.T) {
	objs, err := Parse("rbac.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: missing}
subjects: [{kind: User, name: alice}]
`))
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(objs)
	cases := []struct {
		name     string
		groups   []string
		decision authorizer.Decision
		reason   string
	}{
		{"a missing role is the informer lister's NotFound", nil, authorizer.DecisionNoOpinion, `rbac: RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found`},
		{"system:masters may do anything", []string{user.SystemPrivilegedGroup}, authorizer.DecisionAllow, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice", Groups: tc.groups}, Verb: "get",
				Resource: "pods", Namespace: "team-a", ResourceRequest: true}
			d, reason, _ := m.APIServerAuthorizer().Authorize(context.Background(), attrs)
			if d != tc.decision || reason != tc.reason {
				t.Errorf("got %v %q, want %v %q", d, reason, tc.decision, tc.reason)
			}
		})
	}
}

func TestStorageRuleResolverNamesTheRequest(t *testing.T) {
	m := NewModel(&Objects{Sources: map[any]Source{}})
	request := schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	_, err := m.StorageRuleResolver(request).GetRoleReferenceRules(context.Background(), ref, "team-a")
	if want := `rolebindings.rbac.authorization.k8s.io "view" not found`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
