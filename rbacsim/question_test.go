package rbacsim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"
)

func TestAttributes(t *testing.T) {
	m := modelFrom(t, teamRBAC)
	tests := []struct {
		name     string
		q        Question
		want     authorizer.AttributesRecord
		warnings []string
	}{
		{"short name and name", Question{Verb: "get", Type: "deploy/web", Subresource: "scale", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "get", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Name: "web", Subresource: "scale", Namespace: "team-a"}, nil},
		{"kind with version and group", Question{Verb: "list", Type: "Deployment.v1.apps", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "list", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Namespace: "team-a"}, nil},
		{"cluster-scoped type in a namespace", Question{Verb: "get", Type: "nodes", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "get", ResourceRequest: true, Resource: "nodes", Namespace: "team-a"},
			[]string{"resource 'nodes' is not namespace scoped"}},
		{"cluster-scoped type of a group", Question{Verb: "get", Type: "clusterroles", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "get", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles", Namespace: "team-a"},
			[]string{"resource 'clusterroles' is not namespace scoped in group 'rbac.authorization.k8s.io'"}},
		{"unknown verb", Question{Verb: "frob", Type: "pods", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "frob", ResourceRequest: true, Resource: "pods", Namespace: "team-a"},
			[]string{"verb 'frob' is not a known verb"}},
		{"non-resource URL", Question{Verb: "get", NonResourceURL: "/healthz", Namespace: "team-a"},
			authorizer.AttributesRecord{Verb: "get", Path: "/healthz"}, nil},
		{"unknown non-resource verb", Question{Verb: "list", NonResourceURL: "/healthz"},
			authorizer.AttributesRecord{Verb: "list", Path: "/healthz"}, []string{"verb 'list' is not a known verb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := m.Attributes(nil, tt.q)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Attributes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeChecksMatchesStrictYAML: the fast path of checks files decodes what sigs.k8s.io/yaml's
// strict decoding does, and refuses what it refuses, with its errors.
func TestDecodeChecksMatchesStrictYAML(t *testing.T) {
	inputs := []string{
		"checks:\n- as: alice\n  verb: get\n  resource: pods\n  namespace: a\n  allowed: true\n",
		"checks:\n- {as: alice, groups: [dev, ops], verb: get, nonResourceURL: /healthz, allowed: false}\n",
		"checks:\n- as: alice\n  verb: get\n  resource: pods\n  colour: red\n  allowed: true\n",
		"checks:\n- as: alice\n  as: bob\n  verb: get\n  resource: pods\n  allowed: true\n",
		"checks:\n- as: alice\n  verb: 3\n  resource: pods\n  allowed: true\n",
		"checks:\n- as: alice\n  verb: get\n  resource: pods\n  allowed: yes\n",
		"checks: []\n",
		"checks:\n",
	}
	for _, in := range inputs {
		got, gotErr := decodeChecks([]byte(in))
		var want checksFile
		wantErr := yaml.UnmarshalStrict([]byte(in), &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Errorf("%q: error %v, want %v", in, gotErr, wantErr)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: (-yaml +fast):\n%s", in, diff)
		}
	}
}
