package simulate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/rbacsim"
)

// grants are RBAC objects for the tests: alice edits in shop and may bind edit there; bob may
// patch but not create ConfigMaps in shop; carol administers shop; olga administers the cluster.
const grants = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: olga}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: olga}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: binder}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [get, create]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [view]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dave-binder, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: binder}
subjects: [{kind: User, name: dave}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: patcher, namespace: shop}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-patcher, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: patcher}
subjects: [{kind: User, name: bob}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-admin, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: User, name: carol}]
`

const shop = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}
`

const noAlice = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-alice}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  validations:
  - expression: request.userInfo.username != 'alice'
    message: alice may not
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-alice}
spec: {policyName: no-alice, validationActions: [Deny]}
`

// widgetCRD serves Widgets: a size at most 10, a color that defaults to blue, and a rule that a red
// widget has an odd size.
// createdConfigMap was made by kubectl create, whose manager owns its data.
const createdConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: shop
  uid: u1
  managedFields:
  - {manager: kubectl-create, operation: Update, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:data": {".": {}, "f:a": {}}}}
data: {a: "1"}
`

// withoutManagedFields is an object's YAML without its managedFields, as kubectl get -o yaml prints it.
func withoutManagedFields(doc string) string {
	var kept []string
	skipping := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case line == "  managedFields:":
			skipping = true
		case skipping && strings.HasPrefix(line, "  - "):
		default:
			skipping = false
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// clientSideConfigMap was made by kubectl apply, whose last-applied configuration names a, not b.
const clientSideConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: shop
  uid: u2
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"shop"}}'
  managedFields:
  - {manager: kubectl-client-side-apply, operation: Update, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}}}
data: {a: "1", b: "2"}
`

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, maximum: 10}
              color: {type: string, default: blue}
            x-kubernetes-validations:
            - rule: "self.color != 'red' || self.size % 2 == 1"
              message: red widgets have an odd size
`

// failingMutation labels a ConfigMap with its key b, and fails for one without it.
const failingMutation = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: label-b}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: "Object{metadata: Object.metadata{labels: {'b': object.data['b']}}}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: label-b}
spec: {policyName: label-b}
`

type want struct {
	kind, name, outcome, stage string
	message                    string         // the whole message, or its start when it ends in "..."
	warning                    string         // the start of a warning, if any
	stored                     map[string]any // the whole stored object, if given
	status                     map[string]any // the stored object's status, if given
	data                       map[string]any // the stored object's data, if given
	requests                   []string       // the paths of the requests sent, if given
}

func TestRun(t *testing.T) {
	cases := []struct {
		name       string
		user       string
		inputs     string
		existing   string
		policies   string
		serverSide bool
		want       []want
	}{{
		name:   "get is forbidden",
		user:   "erin",
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "authorization", message: `Error from server (Forbidden): error when retrieving current configuration of:
Resource: "/v1, Resource=configmaps", GroupVersionKind: "/v1, Kind=ConfigMap"
Name: "c", Namespace: "shop"
from server for: "m.yaml": configmaps "c" is forbidden: User "erin" cannot get resource "configmaps" in API group "" in the namespace "shop"`}},
	}, {
		name:   "create is forbidden",
		user:   "bob",
		inputs: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n",
		want: []want{{kind: "Deployment", name: "web", outcome: "refused", stage: "authorization",
			message: `Error from server (Forbidden): error when retrieving current configuration of:...`}},
	}, {
		name:   "the namespace does not exist",
		user:   "alice",
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "admission:NamespaceLifecycle",
			message: `Error from server (NotFound): error when creating "m.yaml": namespaces "shop" not found`}},
	}, {
		name:     "created in an existing namespace",
		user:     "alice",
		existing: shop,
		inputs:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want:     []want{{kind: "ConfigMap", name: "c", outcome: "created"}},
	}, {
		name:     "PodSecurity refuses a pod and warns of a workload",
		user:     "alice",
		existing: shop,
		inputs: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: i}]}\n---\n" +
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n",
		want: []want{
			{kind: "Pod", name: "p", outcome: "refused", stage: "admission:PodSecurity",
				message: `Error from server (Forbidden): error when creating "m.yaml": pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false...`},
			{kind: "Deployment", name: "web", outcome: "created", warning: `would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false`},
		},
	}, {
		name:     "a Role that grants more than its author holds",
		user:     "carol",
		existing: shop,
		inputs:   "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: shop}\nrules: [{apiGroups: [''], resources: [nodes], verbs: [get]}]\n",
		want: []want{{kind: "Role", name: "r", outcome: "refused", stage: "escalation",
			message: `Error from server (Forbidden): error when creating "m.yaml": roles.rbac.authorization.k8s.io "r" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`}},
	}, {
		name:     "a binding made earlier in the apply grants what it grants",
		user:     "dave",
		existing: shop,
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before, namespace: shop}\n---\n" +
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dave-view, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: User, name: dave}]\n---\n" +
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dave-edit, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: User, name: dave}]\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after, namespace: shop}\n",
		want: []want{
			{kind: "ConfigMap", name: "before", outcome: "refused", stage: "authorization", message: "Error from server (Forbidden): error when retrieving current configuration of:..."},
			{kind: "RoleBinding", name: "dave-view", outcome: "created"},
			{kind: "RoleBinding", name: "dave-edit", outcome: "refused", stage: "escalation", message: `Error from server (Forbidden): error when creating "m.yaml": rolebindings.rbac.authorization.k8s.io "dave-edit" is forbidden: user "dave" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:...`},
			{kind: "ConfigMap", name: "after", outcome: "refused", stage: "authorization", message: `Error from server (Forbidden): error when creating "m.yaml": configmaps is forbidden: User "dave" cannot create resource "configmaps" in API group "" in the namespace "shop"`},
		},
	}, {
		name:     "a ValidatingAdmissionPolicy sees the user",
		user:     "alice",
		existing: shop,
		policies: noAlice,
		inputs:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "validating",
			message: `The configmaps "c" is invalid: : ValidatingAdmissionPolicy 'no-alice' with binding 'no-alice' denied request: alice may not`}},
	}, {
		name:     "an existing object is patched, or left unchanged",
		user:     "bob",
		existing: shop + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: b}\n",
		inputs:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: c}\n",
		want:     []want{{kind: "ConfigMap", name: "c", outcome: "configured"}, {kind: "ConfigMap", name: "c", outcome: "unchanged"}},
	}, {
		name:     "LimitRanger applies a LimitRange among the existing objects",
		user:     "alice",
		existing: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: shop}\nspec: {limits: [{type: Container, max: {memory: 1Gi}}]}\n",
		inputs:   "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: i, resources: {limits: {memory: 2Gi}}}]}\n",
		want: []want{{kind: "Pod", name: "p", outcome: "refused", stage: "admission:LimitRanger",
			message: `Error from server (Forbidden): error when creating "m.yaml": pods "p" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi`}},
	}, {
		name: "ResourceQuota counts the existing objects and those the apply creates",
		user: "alice",
		existing: shop + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: shop}\n---\n" +
			"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec: {hard: {configmaps: '2', count/secrets: '0'}}\n",
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: shop}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c2, namespace: shop}\n---\n" +
			"apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c1", outcome: "created"},
			{kind: "ConfigMap", name: "c2", outcome: "refused", stage: "admission:ResourceQuota",
				message: `Error from server (Forbidden): error when creating "m.yaml": configmaps "c2" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2`},
			{kind: "Secret", name: "s", outcome: "refused", stage: "admission:ResourceQuota",
				message: `Error from server (Forbidden): error when creating "m.yaml": secrets "s" is forbidden: exceeded quota: q, requested: count/secrets=1, used: count/secrets=0, limited: count/secrets=0`}},
	}, {
		name: "a ResourceQuota that requires limits",
		user: "alice",
		existing: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" +
			"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: mem, namespace: shop}\nspec: {hard: {limits.memory: 1Gi}}\n",
		inputs: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: i}]}\n",
		want: []want{{kind: "Pod", name: "p", outcome: "refused", stage: "admission:ResourceQuota",
			message: `Error from server (Forbidden): error when creating "m.yaml": pods "p" is forbidden: failed quota: mem: must specify limits.memory for: c`}},
	}, {
		name: "a ResourceQuota whose usage is not known yet",
		user: "alice",
		existing: "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" +
			"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec: {hard: {pods: '1'}}\nstatus: {hard: {pods: '1'}}\n",
		inputs: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: i}]}\n",
		want: []want{{kind: "Pod", name: "p", outcome: "refused", stage: "admission:ResourceQuota",
			message: `Error from server (Forbidden): error when creating "m.yaml": pods "p" is forbidden: status unknown for quota: q, resources: pods`}},
	}, {
		name:     "a ResourceQuota the apply creates has no status yet and limits nothing",
		user:     "olga",
		existing: shop,
		inputs: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec: {hard: {configmaps: '0'}}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want: []want{{kind: "ResourceQuota", name: "q", outcome: "created"}, {kind: "ConfigMap", name: "c", outcome: "created"}},
	}, {
		name:     "a custom resource is pruned, defaulted and validated by its CRD",
		user:     "olga",
		existing: shop + "---\n" + widgetCRD,
		inputs: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ok, namespace: shop}\nspec: {size: 3}\n---\n" +
			"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: big, namespace: shop}\nspec: {size: 30}\n---\n" +
			"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: odd, namespace: shop}\nspec: {size: 4, color: red}\n---\n" +
			"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: extra, namespace: shop}\nspec: {size: 3, shape: round, more: 1}\n",
		want: []want{{kind: "Widget", name: "ok", outcome: "created", stored: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget", "spec": map[string]any{"size": int64(3), "color": "blue"},
			"metadata": map[string]any{"name": "ok", "namespace": "shop", "generation": int64(1), "annotations": map[string]any{
				"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"annotations":{},"name":"ok","namespace":"shop"},"spec":{"size":3}}` + "\n"}}}},
			{kind: "Widget", name: "big", outcome: "refused", stage: "validation",
				message: `The Widget "big" is invalid: spec.size: Invalid value: 30: spec.size in body should be less than or equal to 10`},
			{kind: "Widget", name: "odd", outcome: "refused", stage: "validation",
				message: `The Widget "odd" is invalid: spec: Invalid value: red widgets have an odd size`},
			{kind: "Widget", name: "extra", outcome: "refused", stage: "validation",
				message: `Error from server (BadRequest): error when creating "m.yaml": Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.more", unknown field "spec.shape"`}},
	}, {
		name: "a ResourceQuota read from a cluster keeps its status, and counts what the apply creates",
		user: "olga",
		existing: shop + "---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\n" +
			"spec: {hard: {configmaps: '5'}}\nstatus: {hard: {configmaps: '5'}, used: {configmaps: '4'}}\n",
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: shop}\n---\n" +
			"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec: {hard: {configmaps: '6'}}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c2, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c1", outcome: "created"},
			{kind: "ResourceQuota", name: "q", outcome: "configured", status: map[string]any{
				"hard": map[string]any{"configmaps": "5"}, "used": map[string]any{"configmaps": "5"}}},
			{kind: "ConfigMap", name: "c2", outcome: "refused", stage: "admission:ResourceQuota",
				message: `Error from server (Forbidden): error when creating "m.yaml": configmaps "c2" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=5, limited: configmaps=5`}},
	}, {
		name:       "a server-side apply of a custom resource with a field its schema does not declare",
		user:       "olga",
		existing:   shop + "---\n" + widgetCRD,
		serverSide: true,
		inputs:     "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 3, shape: round}\n",
		want: []want{{kind: "Widget", name: "w", outcome: "refused", stage: "validation",
			message: `Error from server: failed to create typed patch object (shop/w; example.com/v1, Kind=Widget): .spec.shape: field not declared in schema`}},
	}, {
		name:     "a patch of a custom resource with a field its schema does not declare",
		user:     "olga",
		existing: shop + "---\n" + widgetCRD + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop, uid: u, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z'}\nspec: {size: 3}\n",
		inputs:   "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 3, shape: round}\n",
		want: []want{{kind: "Widget", name: "w", outcome: "refused", stage: "validation",
			message: `The request is invalid: patch: Invalid value: "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",...`}},
	}, {
		name:     "a MutatingAdmissionPolicy that fails refuses as the API server words it",
		user:     "alice",
		existing: shop,
		policies: failingMutation,
		inputs:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: x}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "mutating",
			message: `The configmaps "c" is invalid: : policy 'label-b' with binding 'label-b' denied request: expression 'Object{metadata: Object.metadata{labels: {'b': object.data['b']}}}' resulted in error: no such key: b`}},
	}, {
		name:       "a server-side apply removes the fields its manager applied before and no longer names",
		user:       "alice",
		existing:   shop,
		serverSide: true,
		inputs:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '1', b: '2'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '3'}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "created", data: map[string]any{"a": "1", "b": "2"}},
			{kind: "ConfigMap", name: "c", outcome: "configured", data: map[string]any{"a": "3"}}},
	}, {
		name:       "a server-side apply conflicts with another manager's field",
		user:       "alice",
		existing:   shop + "---\n" + createdConfigMap,
		serverSide: true,
		inputs:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '2'}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "validation", message: `error: Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a
Please review the fields above--they currently have other managers. Here...`}},
	}, {
		name:       "a server-side apply takes over what client-side apply applied",
		user:       "alice",
		existing:   shop + "---\n" + clientSideConfigMap,
		serverSide: true,
		// a is in the last-applied configuration (no conflict); after kubectl's migration its
		// server-side manager owns b too, and the apply once more removes it.
		inputs: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '9'}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "configured", data: map[string]any{"a": "9"}, requests: []string{
			"/api/v1/namespaces/shop/configmaps/c?fieldManager=kubectl&fieldValidation=Strict&force=false",    // the apply
			"/api/v1/namespaces/shop/configmaps/c?fieldManager=kubectl-last-applied&fieldValidation=Strict",   // the annotation's apply
			"/api/v1/namespaces/shop/configmaps/c?fieldManager=kubectl&fieldValidation=Strict",                // the managed fields' JSON patch
			"/api/v1/namespaces/shop/configmaps/c?fieldManager=kubectl&fieldValidation=Strict&force=false"}}}, // the apply again
	}, {
		// Made by a server-side apply of an unknown configuration: kubectl's manager is assumed to
		// own what it applies now, a; b, which it may not have applied, stays.
		name:       "an object without managed fields and without client-side apply's annotation is server-side apply's",
		user:       "alice",
		existing:   shop + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop, uid: u3}\ndata: {a: '1', b: '2'}\n",
		serverSide: true,
		inputs:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '9'}\n",
		want:       []want{{kind: "ConfigMap", name: "c", outcome: "configured", data: map[string]any{"a": "9", "b": "2"}}},
	}, {
		// Client-side apply's manager is assumed to own what its annotation names, a (which the
		// migration hands to kubectl's server-side manager); b, which nobody is known to own, stays.
		name:       "an object without managed fields with client-side apply's annotation is client-side apply's",
		user:       "alice",
		existing:   shop + "---\n" + withoutManagedFields(clientSideConfigMap),
		serverSide: true,
		inputs:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: '9'}\n",
		want:       []want{{kind: "ConfigMap", name: "c", outcome: "configured", data: map[string]any{"a": "9", "b": "2"}}},
	}, {
		name:       "a server-side apply that creates needs create",
		user:       "bob",
		existing:   shop,
		serverSide: true,
		inputs:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
		want: []want{{kind: "ConfigMap", name: "c", outcome: "refused", stage: "authorization",
			message: `Error from server (Forbidden): configmaps "c" is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the namespace "shop"`}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.user, tc.inputs, tc.existing, tc.policies, tc.serverSide)
			if len(rep.Results) != len(tc.want) {
				t.Fatalf("%d results, want %d: %+v", len(rep.Results), len(tc.want), rep.Results)
			}
			for i, w := range tc.want {
				checkResult(t, &rep.Results[i], w)
				if w.status != nil {
					if diff := cmp.Diff(w.status, rep.Results[i].Object.Object["status"]); diff != "" {
						t.Errorf("%s %s: stored status (-want +got):\n%s", w.kind, w.name, diff)
					}
				}
				if w.requests != nil {
					var paths []string
					for _, r := range rep.Results[i].Requests {
						paths = append(paths, r.Path)
					}
					if diff := cmp.Diff(w.requests, paths); diff != "" {
						t.Errorf("%s %s: requests (-want +got):\n%s", w.kind, w.name, diff)
					}
				}
				if w.data != nil {
					if diff := cmp.Diff(w.data, rep.Results[i].Object.Object["data"]); diff != "" {
						t.Errorf("%s %s: stored data (-want +got):\n%s", w.kind, w.name, diff)
					}
				}
				if w.stored != nil {
					if diff := cmp.Diff(w.stored, rep.Results[i].Object.Object); diff != "" {
						t.Errorf("%s %s: stored object (-want +got):\n%s", w.kind, w.name, diff)
					}
				}
			}
		})
	}
}

func checkResult(t *testing.T, r *Result, w want) {
	t.Helper()
	if r.Kind != w.kind || r.Name != w.name || string(r.Outcome) != w.outcome || r.Stage != w.stage {
		t.Errorf("%s %s: %s at %q, want %s %s: %s at %q (%s)", r.Kind, r.Name, r.Outcome, r.Stage, w.kind, w.name, w.outcome, w.stage, r.Message)
	}
	if prefix, ok := strings.CutSuffix(w.message, "..."); ok {
		if !strings.HasPrefix(r.Message, prefix) {
			t.Errorf("%s %s: message\n%s\nwant it to start with\n%s", r.Kind, r.Name, r.Message, prefix)
		}
	} else if r.Message != w.message {
		t.Errorf("%s %s: message\n%s\nwant\n%s", r.Kind, r.Name, r.Message, w.message)
	}
	if w.warning != "" && (len(r.Warnings) == 0 || !strings.HasPrefix(r.Warnings[0], w.warning)) {
		t.Errorf("%s %s: warnings %q, want one starting %q", r.Kind, r.Name, r.Warnings, w.warning)
	}
	if (r.Object == nil) != r.Refused() {
		t.Errorf("%s %s: %s with object %v", r.Kind, r.Name, r.Outcome, r.Object != nil)
	}
}

// run simulates an apply of inputs (as m.yaml) by user with the test grants and the defaults.
func run(t *testing.T, user, inputs, existing, policyText string, serverSide bool) *Report {
	t.Helper()
	objs, err := rbacsim.DefaultObjects()
	if err != nil {
		t.Fatal(err)
	}
	more, err := rbacsim.Parse("grants.yaml", []byte(grants))
	if err != nil {
		t.Fatal(err)
	}
	objs.Append(more)
	u, err := rbacsim.Impersonate(user, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{User: u, RBAC: objs, ServerSide: serverSide}
	if existing != "" {
		opts.Existing = decode(t, "existing.yaml", existing)
	}
	if policyText != "" {
		path := filepath.Join(t.TempDir(), "policies.yaml")
		if err := os.WriteFile(path, []byte(policyText), 0o600); err != nil {
			t.Fatal(err)
		}
		if opts.Policies, err = bundle.Load(context.Background(), bundle.Options{Paths: []string{path}}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Run(context.Background(), decode(t, "m.yaml", inputs), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func decode(t testing.TB, name, text string) []manifest.Document {
	t.Helper()
	set := manifest.Decode(name, []byte(text))
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return set.Documents
}
