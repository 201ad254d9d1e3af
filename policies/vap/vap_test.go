package vap

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// compileSet compiles YAML documents (policies, bindings, params, namespaces) the way a bundle does.
func compileSet(t *testing.T, docs string) (*Set, *manifest.Resources, []string, error) {
	t.Helper()
	ds, err := manifest.Decode("policy.yaml", []byte(docs)).Result()
	if err != nil {
		t.Fatalf("decoding test policies: %v", err)
	}
	res := manifest.BuiltinResources()
	store := policies.NewStore()
	for _, d := range ds {
		if manifest.IsCRD(d.Object) {
			if err := res.AddCRD(d.Object); err != nil {
				t.Fatal(err)
			}
		}
		if !Handles(d.Object) {
			store.Add(d.Object)
		}
	}
	set, warnings, err := Compile(ds, Options{Resources: res, Store: store})
	return set, res, warnings, err
}

func request(t *testing.T, res *manifest.Resources, obj string, op policies.Operation) *policies.Request {
	t.Helper()
	ds, err := manifest.Decode("object.yaml", []byte(obj)).Result()
	if err != nil || len(ds) != 1 {
		t.Fatalf("decoding test object: %v", err)
	}
	o := ds[0].Object
	gvk := o.GroupVersionKind()
	r, ok := res.Lookup(gvk)
	if !ok {
		t.Fatalf("unknown kind %v", gvk)
	}
	req := &policies.Request{Kind: gvk, Resource: r.GVR, Name: o.GetName(), Operation: op}
	if r.Namespaced {
		req.Namespace = o.GetNamespace()
		if req.Namespace == "" {
			req.Namespace = "default"
			o.SetNamespace("default")
		}
	}
	switch op {
	case policies.Delete:
		req.OldObject = o
	case policies.Update:
		req.Object, req.OldObject = o, o
	default:
		req.Object = o
	}
	return req
}

type got struct{ Policy, Binding, Action, Message string }

func findings(o policies.Outcome) []got {
	var out []got
	for _, f := range o.Findings {
		out = append(out, got{f.Policy, f.Binding, string(f.Action), f.Message})
	}
	return out
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: dev
  labels: {app: web}
spec:
  replicas: 5
  template:
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`

// policy returns a ValidatingAdmissionPolicy on deployments with the given spec lines appended, and
// a binding with the given validation actions.
func policy(specExtra, bindingExtra string) string {
	return `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
` + specExtra + `
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec:
  policyName: p
` + bindingExtra
}

const deny = "  validationActions: [Deny]\n"

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		docs   string
		object string
		op     policies.Operation
		want   []got
		annot  map[string]string
	}{
		{
			name: "allowed",
			docs: policy("  validations:\n  - expression: object.spec.replicas <= 5\n", deny),
			want: nil,
		},
		{
			name: "denied with the default message",
			docs: policy("  validations:\n  - expression: object.spec.replicas < 5\n", deny),
			want: []got{{"p", "b", "deny", "failed expression: object.spec.replicas < 5"}},
		},
		{
			name: "message",
			docs: policy("  validations:\n  - expression: object.spec.replicas < 5\n    message: too many replicas\n", deny),
			want: []got{{"p", "b", "deny", "too many replicas"}},
		},
		{
			name: "messageExpression wins over message",
			docs: policy("  validations:\n  - expression: object.spec.replicas < 5\n    message: static\n    messageExpression: \"'replicas ' + string(object.spec.replicas) + ' > 4'\"\n", deny),
			want: []got{{"p", "b", "deny", "replicas 5 > 4"}},
		},
		{
			name: "messageExpression that errors falls back to message",
			docs: policy("  validations:\n  - expression: object.spec.replicas < 5\n    message: static\n    messageExpression: \"'x' + object.spec.missing\"\n", deny),
			want: []got{{"p", "b", "deny", "static"}},
		},
		{
			name: "evaluation error under failurePolicy Fail denies",
			docs: policy("  validations:\n  - expression: object.spec.missing == 1\n", deny),
			want: []got{{"p", "b", "deny", "expression 'object.spec.missing == 1' resulted in error: no such key: missing"}},
		},
		{
			name: "evaluation error under failurePolicy Ignore allows",
			docs: policy("  failurePolicy: Ignore\n  validations:\n  - expression: object.spec.missing == 1\n", deny),
			want: nil,
		},
		{
			name: "variables",
			docs: policy("  variables:\n  - {name: r, expression: object.spec.replicas}\n  validations:\n  - expression: variables.r < 3\n    messageExpression: \"'r=' + string(variables.r)\"\n", deny),
			want: []got{{"p", "b", "deny", "r=5"}},
		},
		{
			name: "matchConditions false skips the policy",
			docs: policy("  matchConditions:\n  - {name: only-prod, expression: \"object.metadata.namespace == 'prod'\"}\n  validations:\n  - expression: \"false\"\n", deny),
			want: nil,
		},
		{
			name: "matchConditions true applies the policy",
			docs: policy("  matchConditions:\n  - {name: only-dev, expression: \"object.metadata.namespace == 'dev'\"}\n  validations:\n  - expression: \"false\"\n    message: nope\n", deny),
			want: []got{{"p", "b", "deny", "nope"}},
		},
		{
			name: "warn and audit actions",
			docs: policy("  validations:\n  - expression: \"false\"\n    message: nope\n", "  validationActions: [Warn, Audit]\n"),
			want: []got{{"p", "b", "warn", "nope"}, {"p", "b", "audit", "nope"}},
		},
		{
			name: "operation not matched",
			docs: policy("  validations:\n  - expression: \"false\"\n", deny),
			op:   policies.Delete,
			want: nil,
		},
		{
			name: "excludeResourceRules",
			docs: strings.Replace(policy("  validations:\n  - expression: \"false\"\n", deny), "    resourceRules:", "    excludeResourceRules:\n    - {apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'], resourceNames: [web]}\n    resourceRules:", 1),
			want: nil,
		},
		{
			name: "objectSelector not matched",
			docs: strings.Replace(policy("  validations:\n  - expression: \"false\"\n", deny), "    resourceRules:", "    objectSelector: {matchLabels: {app: other}}\n    resourceRules:", 1),
			want: nil,
		},
		{
			name: "namespaceSelector matches the namespace's labels",
			docs: strings.Replace(policy("  validations:\n  - expression: \"false\"\n    message: nope\n", deny), "    resourceRules:", "    namespaceSelector: {matchLabels: {env: dev}}\n    resourceRules:", 1) +
				"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {env: dev}}\n",
			want: []got{{"p", "b", "deny", "nope"}},
		},
		{
			name: "namespaceSelector on the automatic name label of an unlisted namespace",
			docs: strings.Replace(policy("  validations:\n  - expression: \"false\"\n    message: nope\n", deny), "    resourceRules:", "    namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]}\n    resourceRules:", 1),
			want: []got{{"p", "b", "deny", "nope"}},
		},
		{
			name: "binding matchResources narrows",
			docs: policy("  validations:\n  - expression: \"false\"\n", deny+"  matchResources:\n    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: prod}}\n"),
			want: nil,
		},
		{
			name: "namespaceObject is visible",
			docs: policy("  validations:\n  - expression: \"namespaceObject.metadata.labels['team'] == 'a'\"\n    message: wrong team\n", deny) +
				"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {team: b}}\n",
			want: []got{{"p", "b", "deny", "wrong team"}},
		},
		{
			name: "params by name",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max)\n    messageExpression: \"'at most ' + params.data.max\"\n",
				deny+"  paramRef: {name: limits, namespace: ops, parameterNotFoundAction: Deny}\n") +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: ops}\ndata: {max: \"3\"}\n",
			want: []got{{"p", "b", "deny", "at most 3"}},
		},
		{
			name: "params from the request's namespace when paramRef names none",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max)\n    message: over\n",
				deny+"  paramRef: {name: limits, parameterNotFoundAction: Deny}\n") +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: dev}\ndata: {max: \"9\"}\n",
			want: nil,
		},
		{
			name: "params by selector, one evaluation each",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max)\n    messageExpression: \"'over ' + params.metadata.name\"\n",
				deny+"  paramRef: {selector: {matchLabels: {kind: limit}}, namespace: ops, parameterNotFoundAction: Allow}\n") +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ops, labels: {kind: limit}}\ndata: {max: \"3\"}\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: ops, labels: {kind: limit}}\ndata: {max: \"4\"}\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ops}\ndata: {max: \"1\"}\n",
			want: []got{{"p", "b", "deny", "over a"}, {"p", "b", "deny", "over b"}},
		},
		{
			name: "params not found with Allow",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations:\n  - expression: \"false\"\n",
				deny+"  paramRef: {name: missing, parameterNotFoundAction: Allow}\n"),
			want: nil,
		},
		{
			name: "params not found with Deny",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations:\n  - expression: \"false\"\n",
				deny+"  paramRef: {name: missing, parameterNotFoundAction: Deny}\n"),
			want: []got{{"p", "b", "deny", "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"}},
		},
		{
			name: "paramKind unknown to the API server",
			docs: policy("  paramKind: {apiVersion: example.com/v1, kind: Limits}\n  validations:\n  - expression: \"false\"\n",
				deny+"  paramRef: {name: x, parameterNotFoundAction: Deny}\n"),
			want: []got{{"p", "", "deny", "failed to configure policy: paramKind kind `&ParamKind{APIVersion:example.com/v1,Kind:Limits,}` not known"}},
		},
		{
			name: "paramKind from a CRD in the inputs",
			docs: policy("  paramKind: {apiVersion: example.com/v1, kind: Limits}\n  validations:\n  - expression: object.spec.replicas <= params.spec.max\n    message: over\n",
				deny+"  paramRef: {name: x, parameterNotFoundAction: Deny}\n") + `
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: limits.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Limits, plural: limits}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
---
apiVersion: example.com/v1
kind: Limits
metadata: {name: x}
spec: {max: 2}
`,
			want: []got{{"p", "b", "deny", "over"}},
		},
		{
			name:  "audit annotations",
			docs:  policy("  auditAnnotations:\n  - {key: replicas, valueExpression: \"string(object.spec.replicas)\"}\n", "  validationActions: [Audit]\n"),
			want:  nil,
			annot: map[string]string{"p/replicas": "5"},
		},
		{
			name: "the Kubernetes CEL libraries",
			docs: policy(`  validations:
  - expression: "quantity('1Gi').isGreaterThan(quantity('1Mi'))"
  - expression: "url('https://example.com:8443/x').getPort() == '8443'"
  - expression: "ip('10.0.0.1').family() == 4 && cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))"
  - expression: "'abc'.matches('^a') && [1,2,3].isSorted() && 'x'.format([]) == 'x'"
  - expression: "optional.of(object.spec.replicas).orValue(0) == 5 && object.?spec.?missing.orValue(1) == 1"
`, deny),
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, res, _, err := compileSet(t, tc.docs)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			obj := tc.object
			if obj == "" {
				obj = deployment
			}
			op := tc.op
			if op == "" {
				op = policies.Create
			}
			out := set.Validate(context.Background(), request(t, res, obj, op))
			if diff := cmp.Diff(tc.want, findings(out)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if tc.annot != nil {
				if diff := cmp.Diff(tc.annot, out.AuditAnnotations); diff != "" {
					t.Errorf("audit annotations (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		docs string
		want []string // each must appear in the error
	}{
		{
			name: "undeclared reference with line and column",
			docs: policy("  validations:\n  - expression: objct.spec.replicas < 5\n", deny),
			want: []string{"policy.yaml:2: document 1", `ValidatingAdmissionPolicy "p"`, "spec.validations[0].expression", "undeclared reference to 'objct'", "<input>:1:1"},
		},
		{
			name: "wrong result type",
			docs: policy("  validations:\n  - expression: object.spec.replicas\n", deny),
			want: []string{"spec.validations[0].expression", "must evaluate to bool"},
		},
		{
			name: "variable error",
			docs: policy("  variables:\n  - {name: v, expression: \"1 +\"}\n  validations:\n  - expression: \"true\"\n", deny),
			want: []string{"spec.variables[0].expression", "Syntax error"},
		},
		{
			name: "messageExpression must be a string",
			docs: policy("  validations:\n  - expression: \"true\"\n    messageExpression: \"1\"\n", deny),
			want: []string{"spec.validations[0].messageExpression", "must evaluate to string"},
		},
		{
			name: "params without paramKind",
			docs: policy("  validations:\n  - expression: params.x == 1\n", deny),
			want: []string{"undeclared reference to 'params'"},
		},
		{
			name: "no validations nor audit annotations",
			docs: policy("", deny),
			want: []string{"spec.validations: Required value: validations or auditAnnotations must contain at least one item"},
		},
		{
			name: "no resource rules",
			docs: "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  matchConstraints: {}\n  validations: [{expression: 'true'}]\n",
			want: []string{"spec.matchConstraints.resourceRules: Required value"},
		},
		{
			name: "unknown field",
			docs: policy("  validationz: []\n  validations: [{expression: 'true'}]\n", deny),
			want: []string{`unknown field "spec.validationz"`},
		},
		{
			name: "wrong type names the field",
			docs: policy("  validations:\n  - expression: 'false'\n    message: no\n", deny),
			want: []string{"spec.validations.message", "cannot unmarshal bool"},
		},
		{
			name: "bad failurePolicy and reason",
			docs: policy("  failurePolicy: Sometimes\n  validations: [{expression: 'true', reason: Teapot}]\n", deny),
			want: []string{"spec.failurePolicy: Unsupported value: \"Sometimes\"", "spec.validations[0].reason: Unsupported value: \"Teapot\""},
		},
		{
			name: "binding without validationActions",
			docs: policy("  validations: [{expression: 'true'}]\n", ""),
			want: []string{`ValidatingAdmissionPolicyBinding "b"`, "spec.validationActions: Required value"},
		},
		{
			name: "binding with Deny and Warn",
			docs: policy("  validations: [{expression: 'true'}]\n", "  validationActions: [Deny, Warn]\n"),
			want: []string{"must not contain both Deny and Warn"},
		},
		{
			name: "paramRef with neither name nor selector",
			docs: policy("  paramKind: {apiVersion: v1, kind: ConfigMap}\n  validations: [{expression: 'true'}]\n", deny+"  paramRef: {parameterNotFoundAction: Deny}\n"),
			want: []string{"spec.paramRef: Required value: one of name or selector must be specified"},
		},
		{
			name: "duplicate variable names",
			docs: policy("  variables: [{name: a, expression: '1'}, {name: a, expression: '2'}]\n  validations: [{expression: 'true'}]\n", deny),
			want: []string{"spec.variables[1].name: Duplicate value"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := compileSet(t, tc.docs)
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	docs := policy("  validations: [{expression: 'true'}]\n", deny) + `
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: lonely}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations: [{expression: 'true'}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: orphan}
spec: {policyName: nowhere, validationActions: [Deny]}
`
	_, _, warnings, err := compileSet(t, docs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`policy.yaml:20: ValidatingAdmissionPolicy "lonely" has no ValidatingAdmissionPolicyBinding: it judges nothing`,
		`policy.yaml:28: ValidatingAdmissionPolicyBinding "orphan" binds ValidatingAdmissionPolicy "nowhere", which is not among the policies: it judges nothing`,
	}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestCostBudget(t *testing.T) {
	// Each comprehension over a large list is cheap alone; nested they exceed the runtime budget.
	docs := policy(`  variables:
  - {name: big, expression: "[0,1,2,3,4,5,6,7,8,9].map(a, [0,1,2,3,4,5,6,7,8,9].map(b, [0,1,2,3,4,5,6,7,8,9].map(c, [0,1,2,3,4,5,6,7,8,9].map(d, [0,1,2,3,4,5,6,7,8,9].map(e, [0,1,2,3,4,5,6,7,8,9].map(f, [0,1,2,3,4,5,6,7,8,9].map(g, 'x'))))))) "}
  validations:
  - expression: "size(variables.big) > 0"
`, deny)
	set, res, _, err := compileSet(t, docs)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	out := set.Validate(context.Background(), request(t, res, deployment, policies.Create))
	got := findings(out)
	if len(got) != 1 || got[0].Action != "deny" || !strings.Contains(got[0].Message, "cost") {
		t.Fatalf("findings = %+v, want one denial for exceeding the cost budget", got)
	}
}
