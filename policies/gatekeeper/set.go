package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/admission"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	vcel "github.com/verdict-dev/verdict/policies/cel"
)

// EngineChoice says which engine judges a template that has both a Rego and a K8sNativeValidation
// block. A template with one block is always judged by it.
type EngineChoice string

const (
	// PreferCEL is Gatekeeper's default: the K8sNativeValidation block judges.
	PreferCEL EngineChoice = "cel"
	// PreferRego judges by the Rego block.
	PreferRego EngineChoice = "rego"
	// BothEngines judges by both blocks, each finding tagged with its engine (verdict verify).
	BothEngines EngineChoice = "both"
)

// Options are what compilation needs besides the documents.
type Options struct {
	// Store holds the namespaces that namespaceSelector reads. A nil Store knows no namespace.
	Store *policies.Store
	// Namespaces, when set, is used instead of Store to find the namespace of a request.
	Namespaces NamespaceGetter
	// Inventory is what templates read as data.inventory.
	Inventory []*unstructured.Unstructured
	// AllowedBuiltins are Rego builtins that reach outside the evaluation and that the operator allows.
	AllowedBuiltins []string
	// Engine is the engine of templates that have both; empty means PreferCEL.
	Engine EngineChoice
	// EnforcementPoint selects the scopedEnforcementActions that apply; empty means the webhook's
	// (validation.gatekeeper.sh).
	EnforcementPoint string
}

// Set is the compiled templates and constraints of a policy set. It is immutable and safe for
// concurrent use.
type Set struct {
	templates  []*compiledTemplate
	namespaces NamespaceGetter
	forms      *namespaceForms
}

type compiledTemplate struct {
	name        string
	kind        string
	rego        *regoTemplate // nil when the template has no Rego block or it is not used
	cel         *celTemplate  // likewise
	hasRego     bool
	hasCEL      bool
	unstable    bool // the Rego reads input.review._unstable
	constraints []*constraint
	schema      map[string]any               // the parameters' openAPIV3Schema
	validator   validation.SchemaValidator   // compiled from schema; nil without one
	structural  *structuralschema.Structural // likewise, for the fields the schema does not know
}

// Template describes a compiled template, for reports.
type Template struct {
	Name string
	Kind string
	// Engines are the engines that judge it under the set's EngineChoice.
	Engines []policies.Engine
	// Both is true when the template has a Rego and a K8sNativeValidation block.
	Both        bool
	Constraints []string
}

// Compile compiles the templates and constraints among docs (those for which Handles is true). Each
// template is compiled once. Errors name the file, the document, the object and, for Rego, the line
// and column inside the code; warnings name templates without constraints.
func Compile(ctx context.Context, docs []manifest.Document, opts Options) (*Set, []string, error) {
	if opts.Engine == "" {
		opts.Engine = PreferCEL
	}
	if opts.EnforcementPoint == "" {
		opts.EnforcementPoint = WebhookEnforcementPoint
	}
	s := &Set{namespaces: opts.Namespaces, forms: &namespaceForms{}}
	if s.namespaces == nil && opts.Store != nil {
		s.namespaces = opts.Store
	}
	var errs manifest.ObjectErrors
	var templateDocs, constraintDocs []manifest.Document
	for _, d := range docs {
		switch {
		case !Handles(d.Object):
		case d.Object.GroupVersionKind().Group == ConstraintGroup:
			constraintDocs = append(constraintDocs, d)
		default:
			templateDocs = append(templateDocs, d)
		}
	}
	byName, source := compileTemplates(templateDocs, opts, &errs)
	addConstraints(byName, constraintDocs, opts, &errs)
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	var warnings []string
	for name, ct := range byName {
		if ct.rego != nil {
			for _, w := range ct.rego.compiled.Warnings() {
				warnings = append(warnings, fmt.Sprintf("%s: ConstraintTemplate %q: %s", source[name].Source(), name, w))
			}
		}
		if len(ct.constraints) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: ConstraintTemplate %q has no constraint of kind %s: it judges nothing",
				source[name].Source(), name, ct.kind))
			continue
		}
		sort.Slice(ct.constraints, func(i, j int) bool { return ct.constraints[i].name < ct.constraints[j].name })
		s.templates = append(s.templates, ct)
	}
	sort.Strings(warnings)
	sort.Slice(s.templates, func(i, j int) bool { return s.templates[i].name < s.templates[j].name })
	if err := s.prepare(ctx, opts.Inventory); err != nil {
		return nil, nil, err
	}
	return s, warnings, nil
}

// compileTemplates compiles each template once. A template that does not compile is known by name
// (nil), so that its constraints are not also reported as orphans.
func compileTemplates(docs []manifest.Document, opts Options, errs *manifest.ObjectErrors) (map[string]*compiledTemplate, manifest.Definitions) {
	byName := map[string]*compiledTemplate{}
	source := manifest.Definitions{}
	for _, d := range docs {
		t, err := decodeTemplate(d.Object)
		if err == nil {
			err = source.Define(t.name, d)
		}
		if err != nil {
			errs.Add(d, err)
			continue
		}
		ct, err := compileTemplate(t, opts)
		if err != nil {
			errs.Add(d, err)
		}
		byName[t.name] = ct
	}
	return byName, source
}

// addConstraints gives each template its constraints.
func addConstraints(byName map[string]*compiledTemplate, docs []manifest.Document, opts Options, errs *manifest.ObjectErrors) {
	seen := manifest.Definitions{}
	for _, d := range docs {
		kind := d.Object.GetKind()
		ct, known := byName[templateName(kind)]
		if !known {
			errs.Add(d, fmt.Errorf("no ConstraintTemplate defines kind %s (a template named %q)", kind, templateName(kind)))
			continue
		}
		c, err := decodeConstraint(d.Object, opts.EnforcementPoint)
		if err == nil {
			err = seen.Define(kind+"/"+c.name, d)
		}
		if err != nil {
			errs.Add(d, err)
			continue
		}
		if ct == nil {
			continue // its template did not compile
		}
		if ct.kind != kind {
			errs.Add(d, fmt.Errorf("no ConstraintTemplate defines kind %s: ConstraintTemplate %q defines %s", kind, ct.name, ct.kind))
			continue
		}
		if err := ct.checkParameters(c); err != nil {
			errs.Add(d, err)
			continue
		}
		ct.constraints = append(ct.constraints, c)
	}
}

// compileTemplate compiles the blocks of a template that its engine choice uses.
func compileTemplate(t *template, opts Options) (*compiledTemplate, error) {
	ct := &compiledTemplate{name: t.name, kind: t.kind, hasRego: t.rego != nil, hasCEL: t.cel != nil, schema: t.schema}
	useCEL := t.cel != nil && (opts.Engine != PreferRego || t.rego == nil)
	useRego := t.rego != nil && (opts.Engine != PreferCEL || t.cel == nil)
	if opts.Engine == BothEngines {
		useCEL, useRego = t.cel != nil, t.rego != nil
	}
	var errs []error
	if useCEL {
		c, err := compileCEL(t.name, t.cel)
		if err != nil {
			errs = append(errs, err)
		}
		ct.cel = c
	}
	if useRego {
		r, err := compileRego(t.rego, opts)
		if err != nil {
			errs = append(errs, err)
		}
		ct.rego = r
		ct.unstable = strings.Contains(t.rego.Rego, "_unstable") || strings.Contains(strings.Join(t.rego.Libs, "\n"), "_unstable")
	} else if t.rego != nil {
		// Gatekeeper hands every template to its Rego driver too, even where CEL judges, so a Rego
		// block that does not compile fails the template there: it must fail here as well.
		if _, err := compileRego(t.rego, opts); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ct.compileSchema(); err != nil {
		errs = append(errs, err)
	}
	return ct, errors.Join(errs...)
}

// prepare prepares every Rego query against an inventory.
func (s *Set) prepare(ctx context.Context, inventory []*unstructured.Unstructured) error {
	data, err := inventoryData(inventory)
	if err != nil {
		return err
	}
	for _, ct := range s.templates {
		if ct.rego == nil {
			continue
		}
		if ct.rego, err = ct.rego.prepare(ctx, data); err != nil {
			return fmt.Errorf("ConstraintTemplate %q: %w", ct.name, err)
		}
	}
	return nil
}

// WithInventory returns a copy of the set whose templates read inventory as data.inventory and, when
// namespaces is not nil, that finds namespaces there. Nothing is compiled again; only the Rego queries
// are prepared again.
func (s *Set) WithInventory(ctx context.Context, inventory []*unstructured.Unstructured, namespaces NamespaceGetter) (*Set, error) {
	c := &Set{namespaces: s.namespaces, forms: &namespaceForms{}, templates: make([]*compiledTemplate, len(s.templates))}
	if namespaces != nil {
		c.namespaces = namespaces
	}
	for i, ct := range s.templates {
		cp := *ct
		c.templates[i] = &cp
	}
	if err := c.prepare(ctx, inventory); err != nil {
		return nil, err
	}
	return c, nil
}

// Len counts the templates that have constraints.
func (s *Set) Len() int { return len(s.templates) }

// Templates describes the templates that have constraints, in name order.
func (s *Set) Templates() []Template {
	out := make([]Template, 0, len(s.templates))
	for _, ct := range s.templates {
		t := Template{Name: ct.name, Kind: ct.kind, Both: ct.hasRego && ct.hasCEL, Engines: ct.engines()}
		for _, c := range ct.constraints {
			t.Constraints = append(t.Constraints, c.name)
		}
		out = append(out, t)
	}
	return out
}

// evaluation holds what a request is turned into, each computed at most once.
type evaluation struct {
	req       *policies.Request
	ns        *corev1.Namespace
	gatorTest bool // as gator test: no _unstable
	// nsObject: input.review.namespaceObject is the namespace, as Gatekeeper's webhook and audit pass
	// it (the API server's view, policies.Store); gator test and gator verify pass none (null).
	nsObject  bool
	review    map[string]any
	reviewNS  bool // review was built with the namespace
	versioned *admission.VersionedAttributes
	forms     *namespaceForms
}

// reviewValue is input.review; withNamespace adds _unstable.namespace.
func (e *evaluation) reviewValue(withNamespace bool) map[string]any {
	if e.review == nil || withNamespace && !e.reviewNS && e.ns != nil {
		var ns *corev1.Namespace
		if withNamespace {
			ns = e.ns
		}
		var nsObject *corev1.Namespace
		if e.nsObject {
			nsObject = e.ns
		}
		e.review = reviewMap(e.req, ns, nsObject, e.gatorTest, e.forms)
		e.reviewNS = withNamespace
	}
	return e.review
}

func (e *evaluation) versionedAttributes() *admission.VersionedAttributes {
	if e.versioned == nil {
		// As Gatekeeper's driver, objects are taken as they are, in their own version, whatever the
		// request's kind says (gator's AdmissionReviews often leave it empty).
		a := vcel.Attributes(e.req)
		va := &admission.VersionedAttributes{Attributes: a, VersionedKind: e.req.Kind}
		if old := a.GetOldObject(); old != nil {
			va.VersionedOldObject.Set(old)
		}
		if obj := a.GetObject(); obj != nil {
			va.VersionedObject.Set(obj)
		}
		e.versioned = va
	}
	return e.versioned
}

// Validate judges a request against every constraint that matches it.
func (s *Set) Validate(ctx context.Context, req *policies.Request) policies.Outcome {
	var out policies.Outcome
	if len(s.templates) == 0 {
		return out
	}
	_, isStore := s.namespaces.(*policies.Store)
	gatorTest := isGatorTest(s.namespaces)
	if gatorTest {
		req = gatorTestRequest(req)
	}
	e := &evaluation{req: gkRequest(req), gatorTest: gatorTest, nsObject: isStore, forms: s.forms}
	if s.namespaces != nil && (req.Namespace != "" || e.gatorTest) {
		ns, err := s.namespaces.Namespace(req.Namespace)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Errorf("namespace %q: %w", req.Namespace, err))
		}
		e.ns = ns
	}
	for _, ct := range s.templates {
		engine := policies.Rego
		if ct.cel != nil {
			engine = policies.CEL
		}
		done := policies.Observe(ctx, ct.name, engine)
		before := len(out.Findings)
		for _, c := range ct.constraints {
			ok, err := c.match.matches(e.req.Object, e.req.OldObject, e.ns)
			if err != nil {
				// Gatekeeper cannot tell whether the constraint applies, so it rejects.
				msg := fmt.Sprintf("unable to match constraints: %v", err)
				for _, eng := range ct.engines() {
					ct.record(&out, c, []violation{{engine: eng, msg: msg}})
				}
				continue
			}
			if !ok {
				continue
			}
			out.Judged = append(out.Judged, policies.Ref{Policy: ct.name, Binding: c.name, Engine: engine, Format: FindingFormat})
			if ct.cel != nil {
				ct.record(&out, c, ct.cel.eval(ctx, e.versionedAttributes(), c))
			}
			if ct.rego != nil {
				vs, err := ct.rego.eval(ctx, e.reviewValue(ct.unstable), c)
				ct.record(&out, c, vs)
				if err != nil {
					out.Errors = append(out.Errors, &EvalError{Template: ct.name, Kind: c.kind, Constraint: c.name, Engine: policies.Rego, Err: err})
				}
			}
		}
		done(out.Findings[before:])
	}
	return out
}

// engines are the engines that judge the template.
func (ct *compiledTemplate) engines() []policies.Engine {
	var out []policies.Engine
	if ct.cel != nil {
		out = append(out, policies.CEL)
	}
	if ct.rego != nil {
		out = append(out, policies.Rego)
	}
	return out
}

// record turns violations into findings, one per enforcement action of the constraint.
func (ct *compiledTemplate) record(out *policies.Outcome, c *constraint, vs []violation) {
	for _, v := range vs {
		for _, a := range c.actions {
			// Gatekeeper's webhook words a violation "[constraint] message".
			out.Findings = append(out.Findings, policies.Finding{
				Policy: ct.name, Binding: c.name, Engine: v.engine, Action: a,
				Message: v.msg, Details: v.details, Format: FindingFormat,
				Text: fmt.Sprintf("[%s] %s", c.name, policies.OneLine(v.msg)),
			})
		}
	}
}

// EvalError is an evaluation that failed: a Rego rule that errors at run time, or a request that
// cannot be presented to an engine. Gatekeeper would report its message as a violation.
type EvalError struct {
	Template   string
	Kind       string
	Constraint string
	Engine     policies.Engine
	Err        error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("ConstraintTemplate %q, %s %q (%s): %v", e.Template, e.Kind, e.Constraint, e.Engine, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

var _ policies.Validator = (*Set)(nil)
