package rbacsim

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	goldenfile "github.com/verdict-dev/verdict/internal/golden"
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
	goldenfile.Assert(t, filepath.Join("testdata", name), []byte(got))
}

// lineDiff is a small line diff for test failures (go-cmp is not a dependency of this module).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n-" + wl + "\n+" + gl + "\n")
		}
	}
	return b.String()
}

func attrsURL(userName string, groups []string, verb, path string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: userName, Groups: groups}, Verb: verb, Path: path}
}
