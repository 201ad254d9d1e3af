package rbacsim

import (
	"slices"
	"testing"
)

func TestImpersonate(t *testing.T) {
	tests := []struct {
		name       string
		user       string
		groups     []string
		wantGroups []string
		wantErr    bool
	}{
		{"user", "alice", nil, []string{"system:authenticated"}, false},
		{"user with groups", "alice", []string{"dev", "ops"}, []string{"dev", "ops", "system:authenticated"}, false},
		{"user already authenticated", "alice", []string{"system:authenticated", "dev"}, []string{"system:authenticated", "dev"}, false},
		{"user with unauthenticated group", "alice", []string{"system:unauthenticated"}, []string{"system:unauthenticated"}, false},
		{"service account", "system:serviceaccount:team-a:ci", nil,
			[]string{"system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"}, false},
		{"service account with groups replaces its groups", "system:serviceaccount:team-a:ci", []string{"dev"}, []string{"dev", "system:authenticated"}, false},
		{"invalid service account name is a user", "system:serviceaccount:team-a", nil, []string{"system:authenticated"}, false},
		{"service account with bad namespace is a user", "system:serviceaccount:Team_A:ci", nil, []string{"system:authenticated"}, false},
		{"anonymous", "system:anonymous", nil, []string{"system:unauthenticated"}, false},
		{"anonymous with groups", "system:anonymous", []string{"dev"}, []string{"dev", "system:unauthenticated"}, false},
		{"anonymous already unauthenticated", "system:anonymous", []string{"system:unauthenticated"}, []string{"system:unauthenticated"}, false},
		{"groups without user", "", []string{"dev"}, nil, true},
		{"no user", "", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Impersonate(tt.user, tt.groups)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if u.GetName() != tt.user {
				t.Errorf("name = %q, want %q", u.GetName(), tt.user)
			}
			if !slices.Equal(u.GetGroups(), tt.wantGroups) {
				t.Errorf("groups = %q, want %q", u.GetGroups(), tt.wantGroups)
			}
		})
	}
}

// Impersonated groups decide like the API server: system:authenticated bindings apply to --as users,
// service-account groups apply to service accounts unless --as-group replaces them.
func TestImpersonatedGroupsAuthorize(t *testing.T) {
	m := modelFrom(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects: [{kind: Group, name: "system:serviceaccounts:team-a", apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: everyone, namespace: public}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects: [{kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
`)
	tests := []struct {
		user   string
		groups []string
		ns     string
		want   bool
	}{
		{"system:serviceaccount:team-a:ci", nil, "team-a", true},
		{"system:serviceaccount:team-b:ci", nil, "team-a", false},
		{"system:serviceaccount:team-a:ci", []string{"dev"}, "team-a", false},
		{"alice", nil, "public", true},
		{"system:serviceaccount:team-b:ci", nil, "public", true},
		{"system:anonymous", nil, "public", false},
		{"alice", []string{"system:unauthenticated"}, "public", false},
	}
	for _, tt := range tests {
		u, err := Impersonate(tt.user, tt.groups)
		if err != nil {
			t.Fatal(err)
		}
		a := resourceAttrs(u.GetName(), u.GetGroups(), "list", "", "configmaps", "", tt.ns, "")
		if got, _ := allowed(t, m, a); got != tt.want {
			t.Errorf("%s %v in %s: allowed = %v, want %v", tt.user, tt.groups, tt.ns, got, tt.want)
		}
	}
}
