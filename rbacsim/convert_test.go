package rbacsim

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/verdict-dev/verdict/manifest"
)

// convertCases are RBAC documents that the field-by-field conversion takes (fast) or leaves to
// apimachinery's converter; either way decodeStrict must give what the converter gives.
var convertCases = []struct {
	name string
	doc  string
	fast bool
}{
	{"role", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ns, labels: {a: b}, annotations: {c: d}}\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [get], resourceNames: [x]}\n- {nonResourceURLs: [/healthz], verbs: ['*']}\n", true},
	{"empty lists", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, labels: {}}\nrules:\n- {apiGroups: [], resources: [], verbs: []}\n", true},
	{"no rules", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n", true},
	{"binding", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n- {kind: User, name: alice}\n- {kind: ServiceAccount, name: sa, namespace: ns}\n", true},
	{"cluster binding", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: []\n", true},
	{"aggregation", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {a: b}}]}\n", false},
	{"creationTimestamp", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, creationTimestamp: null}\n", false},
	{"null rules", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n", false},
	{"null verb", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verbs: [~]}]\n", false},
	{"number verb", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verbs: [1]}]\n", false},
	{"unknown rule field", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: [{verb: [get]}]\n", false},
	{"unknown field", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r}\nroleref: {name: x}\n", false},
	{"label not a string", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, labels: {a: 1}}\n", false},
	{"subject not an object", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r}\nsubjects: [alice]\n", false},
}

func newRBAC(kind string) any {
	switch kind {
	case "Role":
		return &rbacv1.Role{}
	case "ClusterRole":
		return &rbacv1.ClusterRole{}
	case "RoleBinding":
		return &rbacv1.RoleBinding{}
	case "ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}
	}
	return nil
}

// sameConversion converts object both ways and fails unless the objects, or the errors, are equal.
func sameConversion(t *testing.T, name string, object map[string]any) (fast bool) {
	t.Helper()
	kind, _ := object["kind"].(string)
	want, got := newRBAC(kind), newRBAC(kind)
	if want == nil {
		return false
	}
	wantErr := manifest.ConvertStrict(object, want)
	fast = convertRBAC(object, newRBAC(kind))
	gotErr := decodeStrict(object, got)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("%s: decodeStrict error %v, the converter's %v", name, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decodeStrict gave\n%#v\nthe converter\n%#v", name, got, want)
	}
	return fast
}

func TestConvertMatchesConverter(t *testing.T) {
	for _, tc := range convertCases {
		t.Run(tc.name, func(t *testing.T) {
			set := manifest.Decode(tc.name+".yaml", []byte(tc.doc))
			if len(set.Errors) > 0 || len(set.Documents) != 1 {
				t.Fatalf("test document does not decode: %v", set.Errors)
			}
			if fast := sameConversion(t, tc.name, set.Documents[0].Object.Object); fast != tc.fast {
				t.Errorf("converted field by field: %v, want %v", fast, tc.fast)
			}
		})
	}
	t.Run("benchmark world", func(t *testing.T) {
		set := manifest.Decode("bench.yaml", benchManifests())
		fast := 0
		for i, d := range set.Documents {
			if i%7 != 0 { // a seventh of the 25,000 documents is plenty
				continue
			}
			if sameConversion(t, d.Object.GetName(), d.Object.Object) {
				fast++
			}
		}
		if fast == 0 {
			t.Fatal("no benchmark document was converted field by field")
		}
	})
}
