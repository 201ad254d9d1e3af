package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// nativeSuite is verdict's own Suite kind (verdict.dev/v1alpha1), beside gator's: policies of any
// format (ValidatingAdmissionPolicies, MutatingAdmissionPolicies, plain Rego, Gatekeeper templates)
// with their bindings and params, and cases judged as `verdict check` and `verdict mutate` judge a
// manifest.
type nativeSuite struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	// Policies are policy files and folders, relative to the suite.
	Policies []string `json:"policies"`
	// Objects are files of further objects the policies read: params, Namespaces, CRDs.
	Objects []string `json:"objects"`
	// Inventory are files of objects Gatekeeper templates read as data.inventory.
	Inventory []string     `json:"inventory"`
	Tests     []nativeTest `json:"tests"`
	Skip      bool         `json:"skip"`
}

type nativeTest struct {
	Name string `json:"name"`
	// Policies and Objects, when given, replace the suite's.
	Policies []string      `json:"policies"`
	Objects  []string      `json:"objects"`
	Cases    []verdictCase `json:"cases"`
	Skip     bool          `json:"skip"`
}

type verdictCase struct {
	Name string `json:"name"`
	// Object and OldObject are files of one object each. The operation defaults to CREATE with an
	// object, UPDATE with both, DELETE with only an old object.
	Object    string `json:"object"`
	OldObject string `json:"oldObject"`
	Operation string `json:"operation"`
	// Namespace is the namespace the request is in, with its labels (for namespaceSelector).
	Namespace *struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"namespace"`
	UserInfo *struct {
		Username string              `json:"username"`
		UID      string              `json:"uid"`
		Groups   []string            `json:"groups"`
		Extra    map[string][]string `json:"extra"`
	} `json:"userInfo"`
	Assertions []verdictAssertion `json:"assertions"`
	Skip       bool               `json:"skip"`
}

// verdictAssertion holds one of: allowed; violations, warnings or audits (yes, no or a count of
// findings of that action, optionally those of one policy or whose message matches a regular
// expression); auditAnnotations (values that must be recorded); object (the object expected after the
// mutating policies, as a file).
type verdictAssertion struct {
	Allowed          *bool             `json:"allowed,omitempty"`
	Violations       json.RawMessage   `json:"violations,omitempty"`
	Warnings         json.RawMessage   `json:"warnings,omitempty"`
	Audits           json.RawMessage   `json:"audits,omitempty"`
	Message          *string           `json:"message,omitempty"`
	Policy           string            `json:"policy,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
	Object           string            `json:"object,omitempty"`
}

// policiesEngine names the results of a verdict suite case: every policy of the bundle, whatever
// its engine.
const policiesEngine = "policies"

type verdictRun struct {
	path, name, dir string
	suite           nativeSuite
	opts            Options
	r               *Report
}

func (v *verdictRun) file(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.dir, p)
}

func (v *verdictRun) files(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = v.file(p)
	}
	return out
}

func runVerdictSuite(ctx context.Context, path string, data []byte, opts Options, r *Report) {
	v := &verdictRun{path: path, dir: filepath.Dir(path), opts: opts, r: r}
	if err := decodeStrict(data, &v.suite); err != nil {
		r.add(Result{Suite: path, Status: Error, Message: "invalid suite: " + err.Error()})
		return
	}
	v.name, _ = v.suite.Metadata["name"].(string)
	for i, t := range v.suite.Tests {
		if t.Name == "" {
			t.Name = fmt.Sprintf("tests[%d]", i)
		}
		v.runTest(ctx, t)
	}
}

func (v *verdictRun) result(test, c string, status Status, msg string) Result {
	return Result{Suite: v.path, SuiteName: v.name, Test: test, Case: c, Status: status, Message: msg}
}

func (v *verdictRun) runTest(ctx context.Context, t nativeTest) {
	each := func(status Status, msg string) {
		for i, c := range t.Cases {
			v.r.add(v.result(t.Name, verdictCaseName(c, i), status, msg))
		}
	}
	if v.suite.Skip || t.Skip {
		each(Skip, "")
		return
	}
	paths, objects := v.suite.Policies, v.suite.Objects
	if len(t.Policies) > 0 {
		paths = t.Policies
	}
	if len(t.Objects) > 0 {
		objects = t.Objects
	}
	if len(paths) == 0 {
		each(Error, "invalid test: no policies (give policies in the suite or the test)")
		return
	}
	load := func(extra ...manifest.Document) (*bundle.Bundle, error) {
		var objs, inventory []manifest.Document
		for _, p := range v.files(objects) {
			d, err := manifest.ReadPath(p)
			if err != nil {
				return nil, fmt.Errorf("objects: %w", err)
			}
			objs = append(objs, d...)
		}
		for _, p := range v.files(v.suite.Inventory) {
			d, err := manifest.ReadPath(p)
			if err != nil {
				return nil, fmt.Errorf("inventory: %w", err)
			}
			inventory = append(inventory, d...)
		}
		return bundle.Load(ctx, bundle.Options{Paths: v.files(paths), Objects: append(objs, extra...), Inventory: inventory,
			AllowedBuiltins: v.opts.AllowedBuiltins})
	}
	b, err := load()
	if err != nil {
		each(Error, err.Error())
		return
	}
	for i, c := range t.Cases {
		res := v.result(t.Name, verdictCaseName(c, i), Pass, "")
		switch {
		case c.Skip:
			res.Status = Skip
		case c.Namespace != nil && len(c.Namespace.Labels) > 0:
			nb, err := load(namespaceDoc(c.Namespace.Name, c.Namespace.Labels))
			if err != nil {
				res.Status, res.Message = Error, err.Error()
				break
			}
			v.runCase(ctx, nb, c, &res)
		default:
			v.runCase(ctx, b, c, &res)
		}
		v.r.add(res)
	}
}

func verdictCaseName(c verdictCase, i int) string {
	if c.Name == "" {
		return fmt.Sprintf("cases[%d]", i)
	}
	return c.Name
}

func namespaceDoc(name string, labels map[string]string) manifest.Document {
	l := map[string]any{}
	for k, v := range labels {
		l[k] = v
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": l},
	}}
	return manifest.Document{File: "(case namespace)", Object: obj}
}

// request builds a case's request as `verdict check` presents a manifest.
func (v *verdictRun) request(b *bundle.Bundle, c verdictCase) (*policies.Request, error) {
	var obj, old *unstructured.Unstructured
	var err error
	if c.Object != "" {
		if obj, err = readObject(v.file(c.Object)); err != nil {
			return nil, fmt.Errorf("object: %w", err)
		}
	}
	if c.OldObject != "" {
		if old, err = readObject(v.file(c.OldObject)); err != nil {
			return nil, fmt.Errorf("oldObject: %w", err)
		}
	}
	if obj == nil && old == nil {
		return nil, errors.New("invalid case: must define object or oldObject")
	}
	op := policies.Create
	switch {
	case c.Operation != "":
		var ok bool
		if op, ok = policies.ParseOperation(c.Operation); !ok {
			return nil, fmt.Errorf("operation %q: must be CREATE, UPDATE, DELETE or CONNECT", c.Operation)
		}
	case obj != nil && old != nil:
		op = policies.Update
	case obj == nil:
		op = policies.Delete
	}
	subject := obj
	if op == policies.Delete {
		subject = old
	}
	if subject == nil {
		return nil, fmt.Errorf("invalid case: operation %s needs %s", op, map[bool]string{true: "oldObject", false: "object"}[op == policies.Delete])
	}
	ns := ""
	if c.Namespace != nil {
		ns = c.Namespace.Name
	}
	req, err := bundle.RequestFor(b.Resources(), subject, op, ns)
	if err != nil {
		return nil, err
	}
	if op == policies.Update && old != nil {
		if old.GetNamespace() == "" && req.Namespace != "" {
			old = old.DeepCopy()
			old.SetNamespace(req.Namespace)
		}
		req.OldObject = old
	}
	if u := c.UserInfo; u != nil {
		req.UserInfo = &user.DefaultInfo{Name: u.Username, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
	}
	return req, nil
}

func (v *verdictRun) runCase(ctx context.Context, b *bundle.Bundle, c verdictCase, res *Result) {
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	if len(c.Assertions) == 0 {
		res.Status, res.Message = Error, "invalid case: assertions must be non-empty"
		return
	}
	checks := make([]func(*caseOutcome) string, len(c.Assertions))
	for i, a := range c.Assertions {
		check, err := v.compileAssertion(a)
		if err != nil {
			res.Status, res.Message = Error, fmt.Sprintf("assertions[%d]: %v", i, err)
			return
		}
		checks[i] = check
	}
	req, err := v.request(b, c)
	if err != nil {
		res.Status, res.Message = Error, err.Error()
		return
	}
	out := judgeRequest(ctx, b, req)
	var failures []string
	for i, check := range checks {
		if f := check(out); f != "" {
			failures = append(failures, fmt.Sprintf("assertions[%d]: %s", i, f))
		}
	}
	res.Engines = []Engine{{Engine: policiesEngine, Passed: len(failures) == 0, Violations: out.describe()}}
	if len(failures) > 0 {
		res.Status = Fail
		res.Message = strings.Join(failures, "; ") + gotMessages(out.describe())
		res.Engines[0].Failure = strings.Join(failures, "; ")
	}
}

// caseOutcome is what the policies did to a case's request: mutated it, then judged the result.
type caseOutcome struct {
	mutated  *unstructured.Unstructured
	outcome  policies.Outcome
	mutation []error
}

func judgeRequest(ctx context.Context, b *bundle.Bundle, req *policies.Request) *caseOutcome {
	m := b.Mutate(ctx, req)
	out := &caseOutcome{mutated: m.Object, mutation: m.Errors}
	out.outcome.Findings = append(out.outcome.Findings, m.Findings...)
	judged := req
	if m.Changed() {
		r := *req
		r.Object = m.Object
		judged = &r
	}
	out.outcome.Merge(b.Validate(ctx, judged))
	return out
}

func (o *caseOutcome) allowed() bool {
	return !o.outcome.Denied() && len(o.outcome.Errors) == 0 && len(o.mutation) == 0
}

func (o *caseOutcome) describe() []string {
	out := []string{}
	for _, f := range o.outcome.Findings {
		out = append(out, fmt.Sprintf("%s %s: %s", f.Action, f.Policy, f.Message))
	}
	for _, e := range append(o.outcome.Errors, o.mutation...) {
		out = append(out, "error: "+e.Error())
	}
	return out
}

func (o *caseOutcome) messages(action policies.Action, policy string) []string {
	out := []string{}
	for _, f := range o.outcome.Findings {
		if f.Action == action && (policy == "" || f.Policy == policy) {
			out = append(out, f.Message)
		}
	}
	return out
}

// compileAssertion checks one assertion and returns its check, which says why it fails or "".
func (v *verdictRun) compileAssertion(a verdictAssertion) (func(*caseOutcome) string, error) {
	kind, err := a.kind()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "allowed":
		want := *a.Allowed
		return func(o *caseOutcome) string {
			if o.allowed() == want {
				return ""
			}
			return fmt.Sprintf("want allowed: %v, got %v", want, o.allowed())
		}, nil
	case "auditAnnotations":
		return a.checkAuditAnnotations, nil
	case "object":
		return v.compileObjectAssertion(a)
	}
	return a.compileCounted(kind)
}

// kind is the one thing the assertion asserts.
func (a verdictAssertion) kind() (string, error) {
	var kinds []string
	count := func(name string, raw json.RawMessage) {
		if len(raw) > 0 {
			kinds = append(kinds, name)
		}
	}
	if a.Allowed != nil {
		kinds = append(kinds, "allowed")
	}
	count("violations", a.Violations)
	count("warnings", a.Warnings)
	count("audits", a.Audits)
	if a.AuditAnnotations != nil {
		kinds = append(kinds, "auditAnnotations")
	}
	if a.Object != "" {
		kinds = append(kinds, "object")
	}
	if len(kinds) != 1 {
		return "", fmt.Errorf("an assertion needs exactly one of allowed, violations, warnings, audits, auditAnnotations or object, not %v", kinds)
	}
	counted := kinds[0] == "violations" || kinds[0] == "warnings" || kinds[0] == "audits"
	if !counted && (a.Message != nil || a.Policy != "") {
		return "", fmt.Errorf("message and policy go with violations, warnings or audits, not %s", kinds[0])
	}
	return kinds[0], nil
}

func (a verdictAssertion) checkAuditAnnotations(o *caseOutcome) string {
	keys := make([]string, 0, len(a.AuditAnnotations))
	for k := range a.AuditAnnotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var bad []string
	for _, k := range keys {
		if got, ok := o.outcome.AuditAnnotations[k]; !ok || got != a.AuditAnnotations[k] {
			bad = append(bad, fmt.Sprintf("want audit annotation %s=%q, got %q", k, a.AuditAnnotations[k], got))
		}
	}
	return strings.Join(bad, "; ")
}

func (v *verdictRun) compileObjectAssertion(a verdictAssertion) (func(*caseOutcome) string, error) {
	want, err := readObject(v.file(a.Object))
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	// Compared as the API server would hold it, as the case's object is judged.
	if want, err = manifest.Normalize(want); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	return func(o *caseOutcome) string {
		if o.mutated != nil && equality.Semantic.DeepEqual(want.Object, o.mutated.Object) {
			return ""
		}
		if o.mutated == nil {
			return "want a mutated object, got none"
		}
		patch, err := bundle.Diff(want, o.mutated)
		if err != nil {
			return fmt.Sprintf("the mutated object differs from %s", a.Object)
		}
		// The patch's operations come in map order: sort them for a stable message.
		sort.SliceStable(patch, func(i, j int) bool { return patch[i].Path < patch[j].Path })
		js, _ := json.Marshal(patch)
		return fmt.Sprintf("the mutated object differs from %s: %s", a.Object, js)
	}, nil
}

// compileCounted compiles a violations, warnings or audits assertion.
func (a verdictAssertion) compileCounted(kind string) (func(*caseOutcome) string, error) {
	raw, action := a.Violations, policies.Deny
	switch kind {
	case "warnings":
		raw, action = a.Warnings, policies.Warn
	case "audits":
		raw, action = a.Audits, policies.Audit
	}
	e, err := assertion{Violations: raw, Message: a.Message}.compile()
	if err != nil {
		return nil, errors.New(strings.Replace(err.Error(), "violations:", kind+":", 1))
	}
	return func(o *caseOutcome) string {
		f := e.check(o.messages(action, a.Policy))
		if f == "" {
			return ""
		}
		f = strings.NewReplacer("violations", kind, "violation", strings.TrimSuffix(kind, "s")).Replace(f)
		if a.Policy != "" {
			f += " of policy " + a.Policy
		}
		return f
	}, nil
}
