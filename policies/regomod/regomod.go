package regomod

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-dev/verdict/policies"
	vrego "github.com/verdict-dev/verdict/policies/rego"
)

// AdmissionPackage is the package whose rules see the AdmissionReview as input.
const AdmissionPackage = "kubernetes.admission"

var (
	failureRule = regexp.MustCompile(`^(deny|violation)(_[a-zA-Z0-9]+)*$`)
	warningRule = regexp.MustCompile(`^warn(_[a-zA-Z0-9]+)*$`)
)

// Set is the compiled plain-Rego policies: one per package with deny, violation, warn or patch rules.
type Set struct {
	packages []*pkg
	warnings []string
}

type pkg struct {
	name      string // the package path without "data."
	admission bool   // input is the AdmissionReview
	rules     []*rule
	patches   *vrego.Query
}

type rule struct {
	name      string
	action    policies.Action
	query     *vrego.Query
	exception *vrego.Query // nil when the package has no exception rule
}

// Options tune compilation.
type Options struct {
	AllowedBuiltins []string
}

// Compile compiles the modules together (a package may span files; a module may import another's).
func Compile(ctx context.Context, modules []vrego.Module, opts Options) (*Set, error) {
	if len(modules) == 0 {
		return &Set{}, nil
	}
	compiled, err := vrego.Compile(modules, vrego.Options{AllowedBuiltins: opts.AllowedBuiltins})
	if err != nil {
		return nil, err
	}
	s := &Set{warnings: compiled.Warnings()}
	var errs []error
	for name, n := range packageRules(compiled) {
		if len(n.rules) == 0 && !n.patch {
			continue
		}
		p, err := preparePackage(ctx, compiled, name, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.packages = append(s.packages, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(s.packages, func(i, j int) bool { return s.packages[i].name < s.packages[j].name })
	return s, nil
}

// ruleNames are the rules of a package that conftest evaluates, across its modules.
type ruleNames struct {
	rules     map[string]bool // deny, violation, warn and their _suffix forms
	exception bool
	patch     bool
}

func packageRules(compiled *vrego.Compiled) map[string]*ruleNames {
	byPkg := map[string]*ruleNames{}
	for _, mod := range compiled.Modules() {
		p := strings.TrimPrefix(mod.Package.Path.String(), "data.")
		n := byPkg[p]
		if n == nil {
			n = &ruleNames{rules: map[string]bool{}}
			byPkg[p] = n
		}
		for _, r := range mod.Rules {
			name := ruleName(r)
			switch {
			case failureRule.MatchString(name), warningRule.MatchString(name):
				n.rules[name] = true
			case name == "exception":
				n.exception = true
			case name == "patch":
				n.patch = true
			}
		}
	}
	return byPkg
}

// preparePackage prepares the queries of one package's rules, in name order, and of its patch.
func preparePackage(ctx context.Context, compiled *vrego.Compiled, name string, n *ruleNames) (*pkg, error) {
	p := &pkg{name: name, admission: name == AdmissionPackage}
	names := make([]string, 0, len(n.rules))
	for r := range n.rules {
		names = append(names, r)
	}
	sort.Strings(names)
	var errs []error
	for _, r := range names {
		action := policies.Deny
		if warningRule.MatchString(r) {
			action = policies.Warn
		}
		q, err := compiled.Prepare(ctx, "data."+name+"."+r, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ru := &rule{name: r, action: action, query: q}
		if n.exception {
			ru.exception, err = compiled.Prepare(ctx, fmt.Sprintf("data.%s.exception[_][_] == %q", name, exceptionName(r)), nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		p.rules = append(p.rules, ru)
	}
	if n.patch {
		q, err := compiled.Prepare(ctx, "data."+name+".patch", nil)
		if err != nil {
			errs = append(errs, err)
		}
		p.patches = q
	}
	return p, errors.Join(errs...)
}

// ruleName is the rule's name as conftest sees it: the first part of its head reference.
func ruleName(r *ast.Rule) string {
	ref := r.Head.Ref()
	if len(ref) == 0 {
		return ""
	}
	if v, ok := ref[0].Value.(ast.Var); ok {
		return string(v)
	}
	return ref[0].String()
}

// exceptionName is the name an exception uses for a rule: deny_foo and violation_foo are "foo".
func exceptionName(rule string) string {
	for _, p := range []string{"deny_", "violation_"} {
		if strings.HasPrefix(rule, p) {
			return strings.TrimPrefix(rule, p)
		}
	}
	return rule
}

// Warnings are what the modules do that is allowed but worth telling their author (a call of
// time.now_ns, rand.intn...), each naming the file, line and rule.
func (s *Set) Warnings() []string { return s.warnings }

// Len counts the policies (packages).
func (s *Set) Len() int { return len(s.packages) }

// inputs builds the two inputs a request can give: the object (conftest style) and the AdmissionReview.
type inputs struct {
	req       *policies.Request
	object    ast.Value
	review    ast.Value
	objectErr error
	reviewErr error
}

func (in *inputs) get(admission bool) (ast.Value, error) {
	if admission {
		if in.review == nil && in.reviewErr == nil {
			in.review, in.reviewErr = vrego.Input(in.req.AdmissionReview())
		}
		return in.review, in.reviewErr
	}
	if in.object == nil && in.objectErr == nil {
		subject := in.req.Subject()
		if subject == nil {
			in.object = ast.NewObject()
		} else {
			in.object, in.objectErr = vrego.Input(subject.Object)
		}
	}
	return in.object, in.objectErr
}

// EvalError is an evaluation of a package that failed: its input could not be built, or a rule
// errs at run time.
type EvalError struct {
	Package string
	Err     error
}

func (e *EvalError) Error() string { return "package " + e.Package + ": " + e.Err.Error() }
func (e *EvalError) Unwrap() error { return e.Err }

// FindingFormat is the Format of the findings of plain Rego modules.
const FindingFormat = "Rego"

func (p *pkg) ref() policies.Ref {
	return policies.Ref{Policy: p.name, Engine: policies.Rego, Format: FindingFormat}
}

// Selects lists the packages that judge objects of r: every package with rules, since a plain
// Rego module has no match rules of its own (it decides in its rules what it looks at).
func (s *Set) Selects(_ policies.Resource, _ policies.Operation) []policies.Ref { return s.Refs() }

// Refs lists every package with rules, in the order they judge.
func (s *Set) Refs() []policies.Ref {
	var out []policies.Ref
	for _, p := range s.packages {
		if len(p.rules) > 0 {
			out = append(out, p.ref())
		}
	}
	return out
}

// Validate evaluates every package's deny, violation and warn rules.
func (s *Set) Validate(ctx context.Context, req *policies.Request) policies.Outcome {
	var out policies.Outcome
	in := &inputs{req: req}
	for _, p := range s.packages {
		if len(p.rules) == 0 {
			continue
		}
		input, err := in.get(p.admission)
		if err != nil {
			out.Errors = append(out.Errors, &EvalError{Package: p.name, Err: fmt.Errorf("input: %w", err)})
			continue
		}
		done := policies.Observe(ctx, p.name, policies.Rego)
		before := len(out.Findings)
		out.Judged = append(out.Judged, p.ref())
		for _, r := range p.rules {
			findings, err := r.eval(ctx, p.name, input)
			if err != nil {
				out.Errors = append(out.Errors, &EvalError{Package: p.name, Err: fmt.Errorf("rule %s: %w", r.name, err)})
				continue
			}
			out.Findings = append(out.Findings, findings...)
		}
		done(out.Findings[before:])
	}
	return out
}

func (r *rule) eval(ctx context.Context, pkgName string, input ast.Value) ([]policies.Finding, error) {
	if r.exception != nil {
		exc, err := r.exception.Eval(ctx, input)
		if err != nil {
			return nil, fmt.Errorf("exception: %w", err)
		}
		if len(exc) > 0 {
			return nil, nil
		}
	}
	values, err := r.query.Eval(ctx, input)
	if err != nil {
		return nil, err
	}
	var out []policies.Finding
	for _, v := range values {
		// A set or array of messages; anything else (a boolean deny) says nothing, as in conftest.
		items, ok := v.([]any)
		if !ok {
			continue
		}
		for _, it := range items {
			msg, details, err := message(it)
			if err != nil {
				return nil, err
			}
			if msg == "" && details == nil {
				continue
			}
			out = append(out, policies.Finding{
				Policy: pkgName, Engine: policies.Rego, Action: r.action,
				Message: msg, Details: details, Format: FindingFormat,
				Text: fmt.Sprintf("[%s] %s", pkgName, policies.OneLine(msg)),
			})
		}
	}
	return out, nil
}

// message reads a rule value: a string, or an object with a string "msg" (the rest is metadata).
// Values of other types are ignored, as conftest ignores them.
func message(v any) (string, any, error) {
	switch val := v.(type) {
	case string:
		return val, nil, nil
	case map[string]any:
		m, ok := val["msg"]
		if !ok {
			return "", nil, fmt.Errorf("rule missing msg field: %v", val)
		}
		s, ok := m.(string)
		if !ok {
			return "", nil, fmt.Errorf("msg field must be a string: %v", val)
		}
		return s, val, nil
	}
	return "", nil, nil
}

var _ policies.Validator = (*Set)(nil)
