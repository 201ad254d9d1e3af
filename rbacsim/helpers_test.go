package rbacsim

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/internal/testkit"
)

// modelFrom builds a model from YAML manifests.
func modelFrom(t testing.TB, manifests string) *Model {
	t.Helper()
	objs, err := Parse("test.yaml", []byte(manifests))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return NewModel(objs)
}

// resourceAttrs is a resource request by a user with groups.
func resourceAttrs(userName string, groups []string, verb, group, resource, sub, ns, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: userName, Groups: groups}, Verb: verb, APIGroup: group,
		Resource: resource, Subresource: sub, Namespace: ns, Name: name, ResourceRequest: true}
}

func allowed(t testing.TB, m *Model, a authorizer.Attributes) (bool, string) {
	t.Helper()
	d, reason, err := m.Authorize(context.Background(), a)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	return d == authorizer.DecisionAllow, reason
}

// golden compares got with testdata/NAME, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), []byte(got))
}

func attrsURL(userName string, groups []string, verb, path string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: userName, Groups: groups}, Verb: verb, Path: path}
}
