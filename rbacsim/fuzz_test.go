package rbacsim

import (
	"context"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
)

// FuzzParse feeds arbitrary bytes to the loader: it must return objects or an error, never panic,
// and whatever it accepts must build a model that answers questions.
func FuzzParse(f *testing.F) {
	f.Add([]byte(teamRBAC))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {name: a}\n"))
	f.Add([]byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleList","items":[{"metadata":{"name":"r"}}]}`))
	f.Add([]byte("---\n---\nkind: [\n"))
	f.Add([]byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: g, names: {plural: p}}\n"))
	f.Add([]byte(clusterRole("agg", nil, []string{`matchLabels: {a: "b"}`}) + clusterRole("x", map[string]string{"a": "b"}, []string{`{}`})))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		m := NewModel(objs)
		u := &user.DefaultInfo{Name: "system:serviceaccount:default:x", Groups: []string{"system:authenticated"}}
		_, _, _ = m.Authorize(context.Background(), resourceAttrs(u.Name, u.Groups, "get", "", "pods", "", "default", "p"))
		m.Explain(resourceAttrs(u.Name, u.Groups, "get", "", "pods", "log", "default", ""))
		m.WhoCan(Question{Verb: "get", Type: "pods", AllNamespaces: true})
		m.RulesFor(u, "default")
	})
}
