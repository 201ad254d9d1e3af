package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/library"
)

// fromYAML decodes a YAML manifest, as the cache would hold it.
func fromYAML(t *testing.T, manifestYAML string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifestYAML), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const teamTemplate = `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8steamlabel}
spec:
  crd: {spec: {names: {kind: K8sTeamLabel}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8steamlabel
      violation[{"msg": msg}] {
        not input.review.object.metadata.labels.team
        msg := sprintf("%v needs a team label", [input.review.object.metadata.name])
      }
status: {created: true}
`

const teamConstraint = `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sTeamLabel
metadata: {name: deployments-need-a-team, managedFields: [{manager: kubectl}]}
spec:
  match: {kinds: [{apiGroups: [apps], kinds: [Deployment]}]}
`

// The API server would refuse this one; verdict leaves it out.
const brokenPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations: [{expression: "objct.spec.replicas < 3"}]
`

const paramPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas-from-params}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
  validations:
  - expression: "object.spec.replicas <= int(params.data.max)"
    messageExpression: "'replicas must be at most ' + params.data.max"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-from-params}
spec:
  policyName: replicas-from-params
  paramRef: {name: limits, namespace: verdict-system, parameterNotFoundAction: Deny}
  validationActions: [Deny]
`

func clusterExtra(t *testing.T) *Extra {
	t.Helper()
	extra := &Extra{Policies: []*unstructured.Unstructured{fromYAML(t, teamTemplate), fromYAML(t, teamConstraint), fromYAML(t, brokenPolicy)}}
	for _, doc := range strings.Split(paramPolicy, "---\n") {
		extra.Policies = append(extra.Policies, fromYAML(t, doc))
	}
	extra.Objects = []manifest.Document{{File: ClusterFile, Object: fromYAML(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: limits, namespace: verdict-system}, data: {max: "3"}}`)}}
	return extra
}

func TestLoadExtra(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, filepath.Join(dir, "p.yaml"), "5")
	tests := []struct {
		name     string
		opts     bundle.Options
		policies int
		// messages are the denials of a Deployment with 4 replicas and no team label.
		messages []string
	}{
		{
			name: "beside policy files", opts: bundle.Options{Paths: []string{dir}}, policies: 3,
			messages: []string{
				"ValidatingAdmissionPolicy 'replicas-from-params' with binding 'replicas-from-params' denied request: replicas must be at most 3",
				"[deployments-need-a-team] web needs a team label",
			},
		},
		{
			name: "beside the embedded library", opts: bundle.Options{Library: library.FS}, policies: libraryPolicies(t) + 2,
			messages: []string{
				"ValidatingAdmissionPolicy 'replicas-from-params' with binding 'replicas-from-params' denied request: replicas must be at most 3",
				"[deployments-need-a-team] web needs a team label",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := NewPolicySet(tc.opts, logr.Discard(), nil)
			if err := set.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := set.LoadExtra(context.Background(), clusterExtra(t)); err != nil {
				t.Fatal(err)
			}
			skipped := set.Skipped()
			if len(skipped) != 1 || !strings.HasPrefix(skipped[0], `cluster: ValidatingAdmissionPolicy "broken": `) || !strings.Contains(skipped[0], "objct") {
				t.Errorf("skipped = %q, want the broken policy named with its error", skipped)
			}
			if got := set.Current().Policies; got != tc.policies {
				t.Errorf("policies = %d, want %d", got, tc.policies)
			}
			texts := denials(t, set, 4, map[string]string{"owner": "me"})
			if len(texts) == 0 {
				t.Fatal("a Deployment the cluster's policies deny was allowed")
			}
			message := strings.Join(texts, "; ") // as the webhook words its answer
			for _, m := range tc.messages {
				if !strings.Contains(message, m) {
					t.Errorf("denial %q lacks %q", message, m)
				}
			}

			// A reload of the files keeps the cluster's policies.
			if err := set.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := set.Current().Policies; got != tc.policies {
				t.Errorf("after a reload of the files: policies = %d, want %d", got, tc.policies)
			}
			// Without them, the set is the files' again.
			if err := set.LoadExtra(context.Background(), &Extra{}); err != nil {
				t.Fatal(err)
			}
			if got, want := set.Current().Policies, tc.policies-2; got != want || len(set.Skipped()) != 0 {
				t.Errorf("without the cluster's policies: policies = %d, skipped %q, want %d and none", got, set.Skipped(), want)
			}
		})
	}
}

func libraryPolicies(t *testing.T) int {
	t.Helper()
	b, err := bundle.Load(context.Background(), bundle.Options{Library: library.FS})
	if err != nil {
		t.Fatal(err)
	}
	return b.Policies
}

// A broken policy file is not a cluster policy: the load fails and the set in force stays.
func TestLoadExtraBrokenFileKeepsSet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	writePolicy(t, file, "5")
	set := NewPolicySet(bundle.Options{Paths: []string{dir}}, logr.Discard(), nil)
	if err := set.LoadExtra(context.Background(), clusterExtra(t)); err != nil {
		t.Fatal(err)
	}
	before := set.Current()
	if err := os.WriteFile(file, []byte(brokenPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	err := set.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), file+":1: document 1") {
		t.Fatalf("error = %v, want one that names %s", err, file)
	}
	if set.Current() != before {
		t.Error("a broken file replaced the set in force")
	}
}

func TestPolicyErrors(t *testing.T) {
	_, err := bundle.Load(context.Background(), bundle.Options{Paths: []string{"-"}, Stdin: strings.NewReader(teamTemplate + "---\n" + brokenPolicy + "---\n" + brokenPolicy)})
	if err == nil {
		t.Fatal("no error")
	}
	got := map[int]bool{}
	for i := range policyErrors(err, "-") {
		got[i] = true
	}
	if diff := cmp.Diff(map[int]bool{2: true, 3: true}, got); diff != "" {
		t.Errorf("documents with errors (-want +got):\n%s\n%v", diff, err)
	}
	if len(policyErrors(err, "other.yaml")) != 0 {
		t.Error("errors of another file were attributed")
	}
}
