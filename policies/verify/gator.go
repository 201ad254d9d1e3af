package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/gatekeeper"
)

// gatorRun is one Gatekeeper suite being run.
type gatorRun struct {
	path string
	name string
	dir  string
	opts Options
	r    *Report
}

func (g *gatorRun) result(test, c string, status Status, msg string) Result {
	return Result{Suite: g.path, SuiteName: g.name, Test: test, Case: c, Status: status, Message: msg}
}

func runGatorSuite(ctx context.Context, path string, data []byte, opts Options, r *Report) {
	var s gatorSuite
	if err := decodeStrict(data, &s); err != nil {
		r.add(Result{Suite: path, Status: Error, Message: "invalid suite: " + err.Error()})
		return
	}
	name, _ := s.Metadata["name"].(string)
	g := &gatorRun{path: path, name: name, dir: filepath.Dir(path), opts: opts, r: r}
	for i, t := range s.Tests {
		if t.Name == "" {
			t.Name = fmt.Sprintf("tests[%d]", i)
		}
		g.runTest(ctx, t, s.Skip)
	}
}

// each reports one result per case of a test (one for the test itself if it has none).
func (g *gatorRun) each(t gatorTest, status Status, msg string) {
	if len(t.Cases) == 0 {
		g.r.add(g.result(t.Name, "", status, msg))
		return
	}
	for i, c := range t.Cases {
		g.r.add(g.result(t.Name, caseName(c, i), status, msg))
	}
}

func caseName(c gatorCase, i int) string {
	if c.Name == "" {
		return fmt.Sprintf("cases[%d]", i)
	}
	return c.Name
}

func (g *gatorRun) file(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(g.dir, p)
}

func (g *gatorRun) runTest(ctx context.Context, t gatorTest, skipSuite bool) {
	if skipSuite || t.Skip {
		g.each(t, Skip, "")
		return
	}
	set, err := g.compile(ctx, t)
	if t.Invalid {
		switch {
		case errors.Is(err, gatekeeper.ErrSchema):
			g.r.add(g.result(t.Name, "", Pass, ""))
		case err == nil:
			g.r.add(g.result(t.Name, "", Fail, "want the constraint to be invalid for its template (a schema error), but it is valid"))
		default:
			g.r.add(g.result(t.Name, "", Error, err.Error()))
		}
		return
	}
	if err != nil {
		g.each(t, Error, err.Error())
		return
	}
	if len(t.Cases) == 0 {
		return
	}
	tmpl := set.Templates()[0]
	for i, c := range t.Cases {
		res := g.result(t.Name, caseName(c, i), Pass, "")
		if c.Skip {
			res.Status = Skip
		} else {
			g.runCase(ctx, set, tmpl, c, &res)
		}
		g.r.add(res)
	}
}

// compile reads and compiles a test's template and constraint, with Gatekeeper's errors for a
// template that does not compile and a constraint that does not fit it.
func (g *gatorRun) compile(ctx context.Context, t gatorTest) (*gatekeeper.Set, error) {
	if t.Template == "" {
		return nil, errors.New("invalid test: missing template")
	}
	if t.Constraint == "" {
		return nil, errors.New("invalid test: missing constraint")
	}
	tdocs, err := manifest.ReadPath(g.file(t.Template))
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(tdocs) != 1 || tdocs[0].Object.GetKind() != gatekeeper.KindTemplate || !gatekeeper.Handles(tdocs[0].Object) {
		return nil, fmt.Errorf("template: %s: want exactly one ConstraintTemplate (templates.gatekeeper.sh)", g.file(t.Template))
	}
	cdocs, err := manifest.ReadPath(g.file(t.Constraint))
	if err != nil {
		return nil, fmt.Errorf("constraint: %w", err)
	}
	if len(cdocs) != 1 || cdocs[0].Object.GroupVersionKind().Group != gatekeeper.ConstraintGroup {
		return nil, fmt.Errorf("constraint: %s: want exactly one constraint (%s)", g.file(t.Constraint), gatekeeper.ConstraintGroup)
	}
	set, _, err := gatekeeper.Compile(ctx, append(tdocs, cdocs...), gatekeeper.Options{
		Namespaces:       noNamespaces{},
		AllowedBuiltins:  g.opts.AllowedBuiltins,
		Engine:           gatekeeper.BothEngines,
		EnforcementPoint: gatekeeper.GatorEnforcementPoint,
	})
	if err != nil {
		return nil, err
	}
	if set.Len() != 1 {
		return nil, fmt.Errorf("constraint %s %q is not of the template's kind", cdocs[0].Object.GetKind(), cdocs[0].Object.GetName())
	}
	return set, nil
}

// runCase reviews a case's object with the test's constraint under each engine of the template and
// checks the assertions against what each engine says.
func (g *gatorRun) runCase(ctx context.Context, set *gatekeeper.Set, tmpl gatekeeper.Template, c gatorCase, res *Result) {
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	fail := func(status Status, format string, args ...any) {
		res.Status, res.Message = status, fmt.Sprintf(format, args...)
	}
	if c.Object == "" {
		fail(Error, "invalid case: must define object")
		return
	}
	if len(c.Assertions) == 0 {
		fail(Error, "invalid case: assertions must be non-empty")
		return
	}
	expects := make([]expectation, len(c.Assertions))
	for i, a := range c.Assertions {
		e, err := a.compile()
		if err != nil {
			fail(Error, "assertions[%d].%v", i, err)
			return
		}
		expects[i] = e
	}
	obj, err := readObject(g.file(c.Object))
	if err != nil {
		fail(Error, "object: %v", err)
		return
	}
	req, err := gatorRequest(obj)
	if err != nil {
		fail(Error, "object: %s: %v", g.file(c.Object), err)
		return
	}
	if len(c.Inventory) > 0 {
		var inventory []*unstructured.Unstructured
		for _, p := range c.Inventory {
			objs, err := readObjects(g.file(p))
			if err != nil {
				fail(Error, "inventory: %v", err)
				return
			}
			inventory = append(inventory, objs...)
		}
		namespaces, err := inventoryNamespaces(inventory)
		if err != nil {
			fail(Error, "inventory: %v", err)
			return
		}
		if set, err = set.WithInventory(ctx, inventory, namespaces); err != nil {
			fail(Error, "inventory: %v", err)
			return
		}
	}
	out := set.Validate(ctx, req)
	judge(tmpl.Engines, out, expects, res)
}

// judge checks the assertions against each engine's violations. Every engine must satisfy every
// assertion; engines that disagree fail the case.
func judge(engines []policies.Engine, out policies.Outcome, expects []expectation, res *Result) {
	var failures []string
	passed := 0
	for _, eng := range engines {
		msgs := messages(out, eng)
		er := Engine{Engine: string(eng), Passed: true, Violations: msgs}
		var why []string
		for i, e := range expects {
			if f := e.check(msgs); f != "" {
				why = append(why, fmt.Sprintf("assertions[%d]: %s", i, f))
			}
		}
		if len(why) > 0 {
			er.Passed = false
			er.Failure = strings.Join(why, "; ") + gotMessages(msgs)
			failures = append(failures, fmt.Sprintf("%s: %s", eng, er.Failure))
		} else {
			passed++
		}
		res.Engines = append(res.Engines, er)
	}
	switch {
	case len(failures) == 0:
		res.Status = Pass
	case len(engines) == 1:
		res.Status, res.Message = Fail, res.Engines[0].Failure
	case passed > 0:
		res.Status = Fail
		res.Message = "engines disagree: " + strings.Join(failures, "; ") + " (" + passedEngines(res.Engines) + " passed)"
	default:
		res.Status, res.Message = Fail, strings.Join(failures, "; ")
	}
}

// messages are the violations one engine reports: its findings of any enforcement action, and its
// evaluation errors, which Gatekeeper reports as violations.
func messages(out policies.Outcome, eng policies.Engine) []string {
	msgs := []string{}
	for _, f := range out.Findings {
		if f.Engine == eng {
			msgs = append(msgs, f.Message)
		}
	}
	for _, err := range out.Errors {
		var ee *gatekeeper.EvalError
		if !errors.As(err, &ee) || ee.Engine == eng {
			msgs = append(msgs, err.Error())
		}
	}
	return msgs
}

func gotMessages(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	q := make([]string, len(msgs))
	for i, m := range msgs {
		q[i] = fmt.Sprintf("%q", m)
	}
	return " (violations: " + strings.Join(q, ", ") + ")"
}

func passedEngines(es []Engine) string {
	var names []string
	for _, e := range es {
		if e.Passed {
			names = append(names, e.Engine)
		}
	}
	return strings.Join(names, ", ")
}

// noNamespaces knows no namespace: gator knows only the Namespaces of a case's inventory.
type noNamespaces struct{}

func (noNamespaces) Namespace(string) (*corev1.Namespace, error) { return nil, nil }

// namespaceMap is the Namespaces of an inventory.
type namespaceMap map[string]*corev1.Namespace

func (m namespaceMap) Namespace(name string) (*corev1.Namespace, error) { return m[name], nil }

func inventoryNamespaces(objs []*unstructured.Unstructured) (namespaceMap, error) {
	m := namespaceMap{}
	for _, o := range objs {
		if gvk := o.GroupVersionKind(); gvk.Group != "" || gvk.Kind != "Namespace" {
			continue
		}
		ns := &corev1.Namespace{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ns); err != nil {
			return nil, fmt.Errorf("Namespace %q: %w", o.GetName(), err)
		}
		m[ns.Name] = ns
	}
	return m, nil
}
