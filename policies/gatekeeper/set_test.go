package gatekeeper

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// docs decodes YAML documents as if read from a file.
func docs(t testing.TB, file string, yamls ...string) []manifest.Document {
	t.Helper()
	d, err := manifest.Decode(file, []byte(strings.Join(yamls, "\n---\n"))).Result()
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return d
}

func compile(t testing.TB, opts Options, yamls ...string) *Set {
	t.Helper()
	s, _, err := Compile(context.Background(), docs(t, "policy.yaml", yamls...), opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// request presents an object as verdict check would: created, in its namespace.
func request(obj *unstructured.Unstructured, op policies.Operation) *policies.Request {
	r := &policies.Request{Kind: obj.GroupVersionKind(), Name: obj.GetName(), Namespace: obj.GetNamespace(), Operation: op}
	switch op {
	case policies.Delete:
		r.OldObject = obj
	default:
		r.Object = obj
	}
	return r
}

// requiredLabels has both engines, like the library's k8srequiredlabels.
const requiredLabels = `
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8srequiredlabels}
spec:
  crd:
    spec:
      names: {kind: K8sRequiredLabels}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels: {type: array, items: {type: string}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: K8sNativeValidation
      source:
        validations:
        - expression: 'variables.params.labels.all(l, has(variables.anyObject.metadata.labels) && l in variables.anyObject.metadata.labels)'
          messageExpression: '"missing labels: " + variables.params.labels.filter(l, !has(variables.anyObject.metadata.labels) || !(l in variables.anyObject.metadata.labels)).join(", ")'
    - engine: Rego
      source:
        rego: |
          package k8srequiredlabels
          violation[{"msg": msg, "details": {"missing": missing}}] {
            provided := {l | input.review.object.metadata.labels[l]}
            required := {l | l := input.parameters.labels[_]}
            missing := required - provided
            count(missing) > 0
            msg := sprintf("missing labels: %v", [concat(", ", sort(missing))])
          }
`

func constraintYAML(kind, name, spec string) string {
	return "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: " + kind + "\nmetadata: {name: " + name + "}\nspec: " + spec
}

func TestEngines(t *testing.T) {
	c := constraintYAML("K8sRequiredLabels", "owner", `{parameters: {labels: [owner, team]}}`)
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a, labels: {team: x}}}`)
	cases := []struct {
		engine EngineChoice
		want   []policies.Finding
	}{
		{engine: "", want: []policies.Finding{
			{Policy: "k8srequiredlabels", Binding: "owner", Engine: policies.CEL, Action: policies.Deny, Message: "missing labels: owner", Text: "[owner] missing labels: owner", Format: FindingFormat},
		}},
		{engine: PreferRego, want: []policies.Finding{
			{Policy: "k8srequiredlabels", Binding: "owner", Engine: policies.Rego, Action: policies.Deny, Message: "missing labels: owner", Text: "[owner] missing labels: owner", Format: FindingFormat,
				Details: map[string]any{"missing": []any{"owner"}}},
		}},
		{engine: BothEngines, want: []policies.Finding{
			{Policy: "k8srequiredlabels", Binding: "owner", Engine: policies.CEL, Action: policies.Deny, Message: "missing labels: owner", Text: "[owner] missing labels: owner", Format: FindingFormat},
			{Policy: "k8srequiredlabels", Binding: "owner", Engine: policies.Rego, Action: policies.Deny, Message: "missing labels: owner", Text: "[owner] missing labels: owner", Format: FindingFormat,
				Details: map[string]any{"missing": []any{"owner"}}},
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.engine), func(t *testing.T) {
			s := compile(t, Options{Engine: tc.engine, Store: policies.NewStore()}, requiredLabels, c)
			out := s.Validate(context.Background(), request(pod, policies.Create))
			if len(out.Errors) > 0 {
				t.Fatal(out.Errors)
			}
			if diff := cmp.Diff(tc.want, out.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnforcementActions(t *testing.T) {
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}}`)
	cases := []struct {
		spec  string
		point string
		want  []policies.Action
		err   string
	}{
		{spec: `{}`, want: []policies.Action{policies.Deny}},
		{spec: `{enforcementAction: deny}`, want: []policies.Action{policies.Deny}},
		{spec: `{enforcementAction: warn}`, want: []policies.Action{policies.Warn}},
		{spec: `{enforcementAction: dryrun}`, want: []policies.Action{policies.Audit}},
		{spec: `{enforcementAction: scoped, scopedEnforcementActions: [{action: warn, enforcementPoints: [{name: validation.gatekeeper.sh}]}, {action: deny, enforcementPoints: [{name: audit.gatekeeper.sh}]}]}`,
			want: []policies.Action{policies.Warn}},
		{spec: `{enforcementAction: scoped, scopedEnforcementActions: [{action: deny, enforcementPoints: [{name: "*"}]}]}`, point: GatorEnforcementPoint,
			want: []policies.Action{policies.Deny}},
		{spec: `{enforcementAction: scoped, scopedEnforcementActions: [{action: deny, enforcementPoints: [{name: audit.gatekeeper.sh}]}]}`, want: nil},
		{spec: `{enforcementAction: block}`, err: `unrecognized enforcement action "block"`},
		{spec: `{enforcementAction: scoped}`, err: "scopedEnforcementActions: required"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			c := constraintYAML("K8sRequiredLabels", "owner", strings.Replace(tc.spec, "{", "{parameters: {labels: [owner]}, ", 1))
			s, _, err := Compile(context.Background(), docs(t, "p.yaml", requiredLabels, c), Options{EnforcementPoint: tc.point})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []policies.Action
			for _, f := range s.Validate(context.Background(), request(pod, policies.Create)).Findings {
				got = append(got, f.Action)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// regoTemplate builds a template with one Rego block.
func regoTemplateYAML(kind, source string) string {
	return "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: " + strings.ToLower(kind) + "}\n" +
		"spec:\n  crd: {spec: {names: {kind: " + kind + "}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n" + source
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestRego(t *testing.T) {
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: [{name: c, image: "nginx:latest"}]}}`)
	cases := []struct {
		name   string
		target string
		req    *policies.Request
		want   []string
		errs   string
	}{
		{name: "v0 by default, legacy rego field", target: "    rego: |\n" + indent(`package k
violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  endswith(c.image, ":latest")
  msg := sprintf("%v uses latest", [c.name])
}`, "      "), want: []string{"c uses latest"}},
		{name: "v1 when the code block says so", target: "    code:\n    - engine: Rego\n      source:\n        version: v1\n        rego: |\n" + indent(`package k
violation contains {"msg": msg} if {
  some c in input.review.object.spec.containers
  endswith(c.image, ":latest")
  msg := sprintf("%v uses latest", [c.name])
}`, "          "), want: []string{"c uses latest"}},
		{name: "libs under data.lib", target: "    rego: |\n" + indent(`package k
import data.lib.images.latest
violation[{"msg": "latest"}] { latest(input.review.object.spec.containers[_]) }`, "      ") + "    libs:\n    - |\n" + indent(`package lib.images
latest(c) { endswith(c.image, ":latest") }`, "      "), want: []string{"latest"}},
		{name: "parameters default to {}", target: "    rego: |\n" + indent(`package k
violation[{"msg": "no params"}] { input.parameters == {} }`, "      "), want: []string{"no params"}},
		{name: "violation without msg is dropped", target: "    rego: |\n" + indent(`package k
violation[{"details": {}}] { true }
violation[{"msg": "kept"}] { true }`, "      "), want: []string{"kept"}},
		{name: "review fields", target: "    rego: |\n" + indent(`package k
violation[{"msg": msg}] {
  r := input.review
  msg := sprintf("%v %v %v/%v %v", [r.operation, r.kind.kind, r.namespace, r.name, r.userInfo.username])
}`, "      "), req: func() *policies.Request {
			r := request(pod, policies.Update)
			r.OldObject = pod
			r.UserInfo = userInfoNamed("alice")
			return r
		}(), want: []string{"UPDATE Pod a/p alice"}},
		{name: "DELETE reviews the old object as the object", target: "    rego: |\n" + indent(`package k
violation[{"msg": input.review.object.metadata.name}] { input.review.oldObject.metadata.name == "p" }`, "      "),
			req: request(pod, policies.Delete), want: []string{"p"}},
		{name: "runtime error", target: "    rego: |\n" + indent(`package k
x = 1 { true }
x = 2 { true }
violation[{"msg": "m"}] { x }`, "      "), errs: "conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := compile(t, Options{}, regoTemplateYAML("K", tc.target), constraintYAML("K", "c", "{}"))
			req := tc.req
			if req == nil {
				req = request(pod, policies.Create)
			}
			out := s.Validate(context.Background(), req)
			if tc.errs != "" {
				var ee *EvalError
				if len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Error(), tc.errs) || !errors.As(out.Errors[0], &ee) || ee.Engine != policies.Rego {
					t.Fatalf("errors = %v, want one naming %q", out.Errors, tc.errs)
				}
				return
			}
			if len(out.Errors) > 0 {
				t.Fatal(out.Errors)
			}
			got := []string{}
			for _, f := range out.Findings {
				got = append(got, f.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCEL(t *testing.T) {
	tmpl := func(source string) string {
		return regoTemplateYAML("K", "    code:\n    - engine: K8sNativeValidation\n      source:\n"+indent(source, "        "))
	}
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: [{name: c, image: "nginx:latest"}]}}`)
	cases := []struct {
		name   string
		source string
		params string
		req    *policies.Request
		want   []string
	}{
		{name: "params and user variables", source: `variables:
- {name: images, expression: 'variables.anyObject.spec.containers.map(c, c.image)'}
validations:
- expression: '!variables.images.exists(i, i.endsWith(variables.params.suffix))'
  messageExpression: '"bad image: " + variables.images.join(", ")'`, params: `{suffix: ":latest"}`, want: []string{"bad image: nginx:latest"}},
		{name: "default message", source: `validations:
- expression: 'false'`, want: []string{"failed expression: false"}},
		{name: "static message", source: `validations:
- {expression: 'false', message: nope}`, want: []string{"nope"}},
		{name: "params null without parameters", source: `validations:
- {expression: 'variables.params != null', message: no params}`, want: []string{"no params"}},
		{name: "matchConditions", source: `matchConditions:
- {name: only-deletes, expression: 'request.operation == "DELETE"'}
validations:
- {expression: 'false', message: nope}`, want: []string{}},
		{name: "anyObject is the old object on DELETE", source: `validations:
- {expression: 'variables.anyObject.metadata.name != "p"', message: deleting p}`, req: request(pod, policies.Delete), want: []string{"deleting p"}},
		{name: "runtime error is a violation", source: `validations:
- {expression: 'variables.anyObject.spec.nothing == 1', message: unreachable}`, want: []string{"expression 'variables.anyObject.spec.nothing == 1' resulted in error: no such key: nothing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := "{}"
			if tc.params != "" {
				spec = "{parameters: " + tc.params + "}"
			}
			template := tmpl(tc.source)
			if tc.params != "" {
				// A template takes parameters only through its schema.
				template = strings.Replace(template, "crd: {spec: {names: {kind: K}}}",
					"crd: {spec: {names: {kind: K}, validation: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}", 1)
			}
			s := compile(t, Options{}, template, constraintYAML("K", "c", spec))
			req := tc.req
			if req == nil {
				req = request(pod, policies.Create)
			}
			out := s.Validate(context.Background(), req)
			if len(out.Errors) > 0 {
				t.Fatal(out.Errors)
			}
			got := []string{}
			for _, f := range out.Findings {
				if f.Engine != policies.CEL {
					t.Errorf("engine = %s", f.Engine)
				}
				got = append(got, f.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInventory(t *testing.T) {
	tmpl := regoTemplateYAML("K8sUniqueName", "    rego: |\n"+indent(`package k
violation[{"msg": sprintf("%v also in %v", [input.review.object.metadata.name, ns])}] {
  other := data.inventory.namespace[ns]["v1"]["Service"][input.review.object.metadata.name]
  ns != input.review.object.metadata.namespace
}
violation[{"msg": "cluster"}] { data.inventory.cluster["v1"]["Node"]["n1"] }`, "      "))
	svc := object(t, `{apiVersion: v1, kind: Service, metadata: {name: web, namespace: a}}`)
	inventory := []*unstructured.Unstructured{
		object(t, `{apiVersion: v1, kind: Service, metadata: {name: web, namespace: b}}`),
		object(t, `{apiVersion: v1, kind: Node, metadata: {name: n1}}`),
	}
	s := compile(t, Options{Inventory: inventory}, tmpl, constraintYAML("K8sUniqueName", "c", "{}"))
	want := []string{"cluster", "web also in b"}
	if diff := cmp.Diff(want, messagesOf(s.Validate(context.Background(), request(svc, policies.Create)))); diff != "" {
		t.Errorf("with inventory (-want +got):\n%s", diff)
	}
	empty, err := s.WithInventory(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := messagesOf(empty.Validate(context.Background(), request(svc, policies.Create))); len(got) != 0 {
		t.Errorf("without inventory: %v", got)
	}
}

func messagesOf(out policies.Outcome) []string {
	var got []string
	for _, f := range out.Findings {
		got = append(got, f.Message)
	}
	for _, e := range out.Errors {
		got = append(got, "error: "+e.Error())
	}
	return got
}

func TestNamespaceSelectorWithStore(t *testing.T) {
	store := policies.NewStore()
	store.Add(object(t, `{apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {env: prod}}}`))
	c := constraintYAML("K8sRequiredLabels", "owner", `{match: {namespaceSelector: {matchLabels: {env: prod}}}, parameters: {labels: [owner]}}`)
	s := compile(t, Options{Store: store}, requiredLabels, c)
	for ns, want := range map[string]int{"prod": 1, "dev": 0} {
		pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: `+ns+`}}`)
		if got := len(s.Validate(context.Background(), request(pod, policies.Create)).Findings); got != want {
			t.Errorf("namespace %s: %d findings, want %d", ns, got, want)
		}
	}
}

func TestAutorejectUnknownNamespace(t *testing.T) {
	c := constraintYAML("K8sRequiredLabels", "owner", `{enforcementAction: warn, match: {namespaceSelector: {matchLabels: {env: prod}}}, parameters: {labels: [owner]}}`)
	s := compile(t, Options{Namespaces: nsGetter{}}, requiredLabels, c)
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: x}}`)
	out := s.Validate(context.Background(), request(pod, policies.Create))
	if len(out.Findings) != 1 || out.Findings[0].Action != policies.Warn ||
		out.Findings[0].Message != "unable to match constraints: error matching the requested object: p :failed to run Match criteria: namespace selector for namespace-scoped object but missing Namespace" {
		t.Errorf("findings = %+v", out.Findings)
	}
}

type nsGetter struct{}

func (nsGetter) Namespace(string) (*corev1.Namespace, error) { return nil, nil }

func userInfoNamed(name string) user.Info { return &user.DefaultInfo{Name: name} }

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name  string
		yamls []string
		want  []string
	}{
		{name: "Rego parse error names file, document, template, field, line and column",
			yamls: []string{constraintYAML("K", "c", "{}"), regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": m}] {\n        m := \n      }\n")},
			want:  []string{"p.yaml:6: document 2: ConstraintTemplate \"k\": spec.targets[0].rego:4:"}},
		{name: "Rego compile error", yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": m}] { m := undefined_fn(1) }\n")},
			want: []string{"spec.targets[0].rego:2:", "undefined function undefined_fn"}},
		{name: "missing violation", yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      deny[1] { true }\n")},
			want: []string{"missing required rules: [violation]"}},
		{name: "lib outside data.lib", yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": \"x\"}] { true }\n    libs:\n    - |\n      package util\n      x := 1\n")},
			want: []string{"spec.targets[0].libs[0]: package util: a library's package must be under data.lib"}},
		{name: "disallowed data ref", yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": \"x\"}] { data.constraints.x }\n")},
			want: []string{"spec.targets[0].rego:2: disallowed ref data.constraints.x"}},
		{name: "unsafe builtin", yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": \"x\"}] { http.send({\"method\": \"get\", \"url\": \"http://x\"}) }\n")},
			want: []string{"calls http.send"}},
		{name: "Rego block of a template that CEL judges still compiles",
			yamls: []string{regoTemplateYAML("K", "    rego: |\n      package k\n      violation[{\"msg\": m}] {\n        m := \n      }\n    code:\n    - engine: K8sNativeValidation\n      source:\n        validations:\n        - {expression: 'true', message: m}\n")},
			want:  []string{"spec.targets[0].rego:4:", "rego_parse_error"}},
		{name: "CEL compile error", yamls: []string{regoTemplateYAML("K", "    code:\n    - engine: K8sNativeValidation\n      source:\n        variables:\n        - {name: a, expression: 'objct'}\n")},
			want: []string{"spec.targets[0].code[0].source.variables[0].expression", "undeclared reference to 'objct'"}},
		{name: "reserved CEL variable", yamls: []string{regoTemplateYAML("K", "    code:\n    - engine: K8sNativeValidation\n      source:\n        variables:\n        - {name: params, expression: '1'}\n")},
			want: []string{`"params" is a reserved keyword`}},
		{name: "name must be the lower-case kind", yamls: []string{strings.Replace(regoTemplateYAML("K", "    rego: 'package k'\n"), "name: k}", "name: other}", 1)},
			want: []string{"is not equal to the lowercase of CRD's Kind"}},
		{name: "no code", yamls: []string{regoTemplateYAML("K", "    code: []\n")}, want: []string{"no Rego or K8sNativeValidation code"}},
		{name: "unknown target", yamls: []string{strings.Replace(regoTemplateYAML("K", "    rego: 'package k'\n"), "admission.k8s.gatekeeper.sh", "other", 1)},
			want: []string{`target "other" not recognized`}},
		{name: "constraint of unknown kind", yamls: []string{constraintYAML("K8sNothing", "c", "{}")},
			want: []string{`p.yaml:1: document 1: K8sNothing "c": no ConstraintTemplate defines kind K8sNothing (a template named "k8snothing")`}},
		{name: "constraint kind in another case", yamls: []string{requiredLabels, constraintYAML("K8sRequiredlabels", "c", "{}")},
			want: []string{`no ConstraintTemplate defines kind K8sRequiredlabels: ConstraintTemplate "k8srequiredlabels" defines K8sRequiredLabels`}},
		{name: "parameters against the schema", yamls: []string{requiredLabels, constraintYAML("K8sRequiredLabels", "c", "{parameters: {labels: owner}}")},
			want: []string{"schema validation failed", "spec.parameters.labels: Invalid value"}},
		{name: "duplicate template", yamls: []string{requiredLabels, requiredLabels}, want: []string{"defined again (first in p.yaml:2)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Compile(context.Background(), docs(t, "p.yaml", tc.yamls...), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestSchemaErrorIs(t *testing.T) {
	_, _, err := Compile(context.Background(), docs(t, "p.yaml", requiredLabels, constraintYAML("K8sRequiredLabels", "c", "{parameters: {labels: 3}}")), Options{})
	if !errors.Is(err, ErrSchema) {
		t.Errorf("error %v is not ErrSchema", err)
	}
}

func TestWarnings(t *testing.T) {
	_, warnings, err := Compile(context.Background(), docs(t, "p.yaml", requiredLabels), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `ConstraintTemplate "k8srequiredlabels" has no constraint`) {
		t.Errorf("warnings = %v", warnings)
	}
}

func TestHandles(t *testing.T) {
	cases := map[string]bool{
		`{apiVersion: templates.gatekeeper.sh/v1, kind: ConstraintTemplate}`:       true,
		`{apiVersion: templates.gatekeeper.sh/v1beta1, kind: ConstraintTemplate}`:  true,
		`{apiVersion: templates.gatekeeper.sh/v1alpha1, kind: ConstraintTemplate}`: true,
		`{apiVersion: templates.gatekeeper.sh/v2, kind: ConstraintTemplate}`:       false,
		`{apiVersion: constraints.gatekeeper.sh/v1beta1, kind: K8sAnything}`:       true,
		`{apiVersion: mutations.gatekeeper.sh/v1, kind: Assign}`:                   false,
		`{apiVersion: v1, kind: Pod}`:                                              false,
	}
	for y, want := range cases {
		if got := Handles(object(t, y)); got != want {
			t.Errorf("Handles(%s) = %v, want %v", y, got, want)
		}
	}
}

// TestConcurrentValidate judges from several goroutines at once, as the webhook does (run with -race).
func TestConcurrentValidate(t *testing.T) {
	s := compile(t, Options{Engine: BothEngines, Store: policies.NewStore()}, requiredLabels,
		constraintYAML("K8sRequiredLabels", "owner", `{parameters: {labels: [owner]}}`))
	pod := object(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}}`)
	done := make(chan []string)
	for range 4 {
		go func() {
			var got []string
			for range 50 {
				got = messagesOf(s.Validate(context.Background(), request(pod, policies.Create)))
			}
			done <- got
		}()
	}
	for range 4 {
		if got := <-done; len(got) != 2 {
			t.Errorf("messages = %v", got)
		}
	}
}
