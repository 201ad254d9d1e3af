package vap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdbuilder "k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/spec3"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	vcel "github.com/verdict-dev/verdict/policies/cel"
)

// mutatingHook is one compiled MutatingAdmissionPolicy with its bindings, in the shape of
// kube-apiserver's own hooks, which its own dispatcher runs.
type mutatingHook = mutating.PolicyHook

// mutatingCompiler collects MutatingAdmissionPolicies and bindings, then compiles and pairs them.
type mutatingCompiler struct {
	opts          Options
	policies      map[string]*admissionregistrationv1.MutatingAdmissionPolicy
	policySource  manifest.Definitions
	bindings      []*admissionregistrationv1.MutatingAdmissionPolicyBinding
	bindingSource manifest.Definitions
}

func newMutatingCompiler(opts Options) *mutatingCompiler {
	return &mutatingCompiler{
		opts:          opts,
		policies:      map[string]*admissionregistrationv1.MutatingAdmissionPolicy{},
		policySource:  manifest.Definitions{},
		bindingSource: manifest.Definitions{},
	}
}

func (c *mutatingCompiler) add(d manifest.Document) error {
	// The v1beta1 and v1alpha1 kinds are read in the v1 shape; fields they lack are refused.
	switch d.Object.GetKind() {
	case KindMutatingPolicy:
		p := &admissionregistrationv1.MutatingAdmissionPolicy{}
		if err := fromUnstructured(d.Object, p); err != nil {
			return err
		}
		defaultMutatingPolicy(p)
		if err := fieldErr(validateMutatingPolicy(p)); err != nil {
			return err
		}
		if err := c.policySource.Define(p.Name, d); err != nil {
			return err
		}
		c.policies[p.Name] = p
	case KindMutatingPolicyBinding:
		b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
		if err := fromUnstructured(d.Object, b); err != nil {
			return err
		}
		if b.Spec.MatchResources != nil {
			defaultMatchResources(b.Spec.MatchResources)
		}
		if err := fieldErr(validateMutatingBinding(b)); err != nil {
			return err
		}
		if err := c.bindingSource.Define(b.Name, d); err != nil {
			return err
		}
		c.bindings = append(c.bindings, b)
	}
	return nil
}

func defaultMutatingPolicy(p *admissionregistrationv1.MutatingAdmissionPolicy) {
	if p.Spec.FailurePolicy == nil {
		f := admissionregistrationv1.Fail
		p.Spec.FailurePolicy = &f
	}
	if p.Spec.ReinvocationPolicy == "" {
		p.Spec.ReinvocationPolicy = admissionregistrationv1.NeverReinvocationPolicy
	}
	if p.Spec.MatchConstraints != nil {
		defaultMatchResources(p.Spec.MatchConstraints)
	}
}

// compile compiles every policy that has a binding, in the order of their names.
func (c *mutatingCompiler) compile() ([]*mutatingHook, []string, []error) {
	var warnings []string
	var errs []error
	byPolicy := map[string][]*admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	for _, b := range c.bindings {
		if _, ok := c.policies[b.Spec.PolicyName]; !ok {
			warnings = append(warnings, fmt.Sprintf("%s: MutatingAdmissionPolicyBinding %q binds MutatingAdmissionPolicy %q, which is not among the policies: it mutates nothing",
				c.bindingSource[b.Name].Source(), b.Name, b.Spec.PolicyName))
			continue
		}
		byPolicy[b.Spec.PolicyName] = append(byPolicy[b.Spec.PolicyName], b)
	}
	names := make([]string, 0, len(c.policies))
	for n := range c.policies {
		names = append(names, n)
	}
	sort.Strings(names)
	var hooks []*mutatingHook
	for _, name := range names {
		p := c.policies[name]
		d := c.policySource[name]
		bindings := byPolicy[name]
		if len(bindings) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: MutatingAdmissionPolicy %q has no MutatingAdmissionPolicyBinding: it mutates nothing", d.Source(), name))
			continue
		}
		sort.Slice(bindings, func(i, j int) bool { return bindings[i].Name < bindings[j].Name })
		ev, ferrs := compileMutating(p)
		if err := fieldErr(ferrs); err != nil {
			errs = append(errs, d.Wrap(fmt.Errorf("%s %q: %w", KindMutatingPolicy, name, err)))
			continue
		}
		h := &mutatingHook{Policy: p, Bindings: bindings, Evaluator: ev}
		if pk := p.Spec.ParamKind; pk != nil {
			gvk, err := paramGVK(pk)
			if err != nil {
				errs = append(errs, d.Wrap(err))
				continue
			}
			if src := paramsFor(gvk, c.opts.Resources, c.opts.Store); src != nil {
				h.ParamInformer, h.ParamScope = src.informer, src.scope
			} else {
				h.ConfigurationError = fmt.Errorf("paramKind kind `%v` not known", pk.String())
			}
		}
		hooks = append(hooks, h)
	}
	return hooks, warnings, errs
}

// compileMutating compiles a policy as kube-apiserver's mutating plugin does, in the environment for
// new expressions, and reports every compile error by field path.
func compileMutating(p *admissionregistrationv1.MutatingAdmissionPolicy) (mutating.PolicyEvaluator, field.ErrorList) {
	spec := field.NewPath("spec")
	opts := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true}
	compiler, err := plugincel.NewCompositedCompiler(vcel.BaseEnv())
	if err != nil {
		return mutating.PolicyEvaluator{}, field.ErrorList{field.InternalError(spec, err)}
	}
	var errs field.ErrorList
	for i, v := range p.Spec.Variables {
		res := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, opts, vcel.Mode)
		if res.Error != nil {
			errs = append(errs, field.Invalid(spec.Child("variables").Index(i).Child("expression"), v.Expression, res.Error.Error()))
		}
	}
	var matcher matchconditions.Matcher
	if mcs := p.Spec.MatchConditions; len(mcs) > 0 {
		accessors := make([]plugincel.ExpressionAccessor, len(mcs))
		for i := range mcs {
			accessors[i] = (*matchconditions.MatchCondition)(&mcs[i])
			if res := compiler.CompileCELExpression(accessors[i], opts, vcel.Mode); res.Error != nil {
				errs = append(errs, field.Invalid(spec.Child("matchConditions").Index(i).Child("expression"), mcs[i].Expression, res.Error.Error()))
			}
		}
		matcher = matchconditions.NewMatcher(compiler.CompileCondition(accessors, opts, vcel.Mode), p.Spec.FailurePolicy, "policy", "validate", p.Name)
	}
	patchOpts := opts
	patchOpts.HasPatchTypes = true
	var patchers []patch.Patcher
	for i, m := range p.Spec.Mutations {
		fld := spec.Child("mutations").Index(i)
		var accessor plugincel.ExpressionAccessor
		var exprField *field.Path
		switch {
		case m.PatchType == admissionregistrationv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			accessor, exprField = &patch.JSONPatchCondition{Expression: m.JSONPatch.Expression}, fld.Child("jsonPatch", "expression")
		case m.PatchType == admissionregistrationv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			accessor, exprField = &patch.ApplyConfigurationCondition{Expression: m.ApplyConfiguration.Expression}, fld.Child("applyConfiguration", "expression")
		default:
			continue // refused by validateMutatingPolicy
		}
		if res := compiler.CompileCELExpression(accessor, patchOpts, vcel.Mode); res.Error != nil {
			errs = append(errs, field.Invalid(exprField, accessor.GetExpression(), res.Error.Error()))
			continue
		}
		ev := compiler.CompileMutatingEvaluator(accessor, patchOpts, vcel.Mode)
		if m.PatchType == admissionregistrationv1.PatchTypeJSONPatch {
			patchers = append(patchers, patch.NewJSONPatcher(ev))
		} else {
			patchers = append(patchers, patch.NewApplyConfigurationPatcher(ev))
		}
	}
	return mutating.PolicyEvaluator{Matcher: matcher, Mutators: patchers, CompositedCompiler: compiler}, errs
}

func validateMutatingPolicy(p *admissionregistrationv1.MutatingAdmissionPolicy) field.ErrorList {
	var errs field.ErrorList
	if p.Name == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), ""))
	}
	spec := field.NewPath("spec")
	errs = append(errs, validateFailurePolicy(p.Spec.FailurePolicy, spec.Child("failurePolicy"))...)
	errs = append(errs, validateParamKind(p.Spec.ParamKind, spec.Child("paramKind"))...)
	errs = append(errs, validateMatchResources(p.Spec.MatchConstraints, spec.Child("matchConstraints"), true)...)
	if mc := p.Spec.MatchConstraints; mc != nil {
		for i, r := range mc.ResourceRules {
			for j, op := range r.Operations {
				if op != admissionregistrationv1.Create && op != admissionregistrationv1.Update && op != admissionregistrationv1.OperationAll {
					errs = append(errs, field.NotSupported(spec.Child("matchConstraints", "resourceRules").Index(i).Child("operations").Index(j), op, []string{"CREATE", "UPDATE", "*"}))
				}
			}
		}
	}
	errs = append(errs, validateMatchConditionNames(p.Spec.MatchConditions, spec.Child("matchConditions"))...)
	errs = append(errs, validateVariableNames(p.Spec.Variables, spec.Child("variables"))...)
	switch p.Spec.ReinvocationPolicy {
	case admissionregistrationv1.NeverReinvocationPolicy, admissionregistrationv1.IfNeededReinvocationPolicy:
	default:
		errs = append(errs, field.NotSupported(spec.Child("reinvocationPolicy"), p.Spec.ReinvocationPolicy, []string{"IfNeeded", "Never"}))
	}
	if len(p.Spec.Mutations) == 0 {
		errs = append(errs, field.Required(spec.Child("mutations"), "mutations must contain at least one item"))
	}
	for i, m := range p.Spec.Mutations {
		fld := spec.Child("mutations").Index(i)
		switch m.PatchType {
		case admissionregistrationv1.PatchTypeJSONPatch:
			if m.JSONPatch == nil || m.JSONPatch.Expression == "" {
				errs = append(errs, field.Required(fld.Child("jsonPatch"), "must be specified when patchType is JSONPatch"))
			}
			if m.ApplyConfiguration != nil {
				errs = append(errs, field.Invalid(fld.Child("applyConfiguration"), "{...}", "must not be specified when patchType is JSONPatch"))
			}
		case admissionregistrationv1.PatchTypeApplyConfiguration:
			if m.ApplyConfiguration == nil || m.ApplyConfiguration.Expression == "" {
				errs = append(errs, field.Required(fld.Child("applyConfiguration"), "must be specified when patchType is ApplyConfiguration"))
			}
			if m.JSONPatch != nil {
				errs = append(errs, field.Invalid(fld.Child("jsonPatch"), "{...}", "must not be specified when patchType is ApplyConfiguration"))
			}
		case "":
			errs = append(errs, field.Required(fld.Child("patchType"), ""))
		default:
			errs = append(errs, field.NotSupported(fld.Child("patchType"), m.PatchType, []string{"ApplyConfiguration", "JSONPatch"}))
		}
	}
	return errs
}

func validateMutatingBinding(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) field.ErrorList {
	return validateBindingCommon(b.Name, b.Spec.PolicyName, b.Spec.ParamRef, b.Spec.MatchResources)
}

// typeConverters gives ApplyConfiguration patches the structured-merge schema of a kind, as the API
// server has it: the built-in types' schemas from client-go, the schemas of the CustomResourceDefinitions
// among the inputs (built as kube-apiserver builds them for server-side apply), and a deduced schema
// (every field merged as given, lists replaced) for any other kind.
type typeConverters struct {
	crds map[schema.GroupVersionKind]managedfields.TypeConverter
}

var (
	builtinConverterOnce sync.Once
	builtinConverter     managedfields.TypeConverter
	deducedConverter     = managedfields.NewDeducedTypeConverter()
)

func (t typeConverters) GetTypeConverter(gvk schema.GroupVersionKind) managedfields.TypeConverter {
	if c, ok := t.crds[gvk]; ok {
		return c
	}
	builtinConverterOnce.Do(func() { builtinConverter = applyconfigurations.NewTypeConverter(scheme.Scheme) })
	if scheme.Scheme.Recognizes(gvk) {
		return builtinConverter
	}
	return deducedConverter
}

func (typeConverters) Run(context.Context) {}

// crdConverters builds the structured-merge schemas of the served versions of the CRDs. A CRD whose
// schema cannot be built keeps the deduced schema, with a warning.
func crdConverters(crds []*unstructured.Unstructured) (map[schema.GroupVersionKind]managedfields.TypeConverter, []string) {
	out := map[schema.GroupVersionKind]managedfields.TypeConverter{}
	var warnings []string
	for _, u := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			continue // reported by the resource table
		}
		var specs []*spec3.OpenAPI
		var gvks []schema.GroupVersionKind
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			s, err := crdbuilder.BuildOpenAPIV3(crd, v.Name, crdbuilder.Options{})
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("CustomResourceDefinition %q version %s: no schema for ApplyConfiguration mutations: %v", crd.Name, v.Name, err))
				continue
			}
			specs = append(specs, s)
			gvks = append(gvks, schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind})
		}
		if len(specs) == 0 {
			continue
		}
		merged, err := crdbuilder.MergeSpecsV3(specs...)
		if err == nil {
			var c managedfields.TypeConverter
			c, err = managedfields.NewTypeConverter(merged.Components.Schemas, crd.Spec.PreserveUnknownFields)
			if err == nil {
				for _, gvk := range gvks {
					out[gvk] = c
				}
				continue
			}
		}
		warnings = append(warnings, fmt.Sprintf("CustomResourceDefinition %q: no schema for ApplyConfiguration mutations: %v", crd.Name, err))
	}
	return out, warnings
}

// MutationResult is what the mutating policies did to a request's object.
type MutationResult struct {
	// Object is the object after every mutation (the request's object when nothing changed).
	Object *unstructured.Unstructured
	// Findings are the policies that failed under failurePolicy Fail: in the cluster they refuse the
	// request.
	Findings []policies.Finding
	// Refusal is the error kube-apiserver's plugin returns when Findings refuse the request.
	Refusal error
}

// Mutate runs every MutatingAdmissionPolicy on a copy of the request's object, with kube-apiserver's
// dispatcher and reinvocation: when a round changed the object, policies with reinvocationPolicy
// IfNeeded run once more. The request is not changed.
func (s *Set) Mutate(ctx context.Context, req *policies.Request) MutationResult {
	res := MutationResult{Object: req.Object}
	if len(s.mutating) == 0 || req.Object == nil {
		return res
	}
	copied := *req
	copied.Object = req.Object.DeepCopy()
	a := vcel.Attributes(&copied)
	if err := s.dispatchMutations(ctx, a); err != nil {
		res.Findings, res.Refusal = s.mutationFindings(err), err
	}
	if rc := a.GetReinvocationContext(); rc.ShouldReinvoke() && len(res.Findings) == 0 {
		rc.SetIsReinvoke()
		if err := s.dispatchMutations(ctx, a); err != nil {
			res.Findings, res.Refusal = s.mutationFindings(err), err
		}
	}
	if u, ok := a.GetObject().(*unstructured.Unstructured); ok {
		res.Object = u
	}
	return res
}

func (s *Set) dispatchMutations(ctx context.Context, a admission.Attributes) error {
	return s.dispatcher.Dispatch(ctx, a, vcel.ObjectInterfaces, s.hooks)
}

// mutationFindings turns the dispatcher's refusal into findings, one per cause, each worded as
// kube-apiserver words it. Which policy and binding a cause is about is found by comparing it with
// what kube's own PolicyError prints for each policy and binding of the set, not by reading names
// out of the text.
func (s *Set) mutationFindings(err error) []policies.Finding {
	var status *apierrors.StatusError
	if !errors.As(err, &status) {
		return []policies.Finding{s.mutationFinding(err.Error(), "")}
	}
	var out []policies.Finding
	if status.ErrStatus.Details != nil {
		for _, c := range status.ErrStatus.Details.Causes {
			out = append(out, s.mutationFinding(c.Message, status.ErrStatus.Reason))
		}
	}
	if len(out) == 0 {
		out = append(out, s.mutationFinding(status.ErrStatus.Message, status.ErrStatus.Reason))
	}
	return out
}

func (s *Set) mutationFinding(cause string, reason metav1.StatusReason) policies.Finding {
	f := policies.Finding{Engine: policies.CEL, Action: policies.Deny, Message: cause, Reason: reason, Format: KindMutatingPolicy, Text: policies.OneLine(cause)}
	for _, c := range s.causes {
		if msg, ok := strings.CutPrefix(cause, c.prefix); ok {
			f.Policy, f.Binding, f.Message = c.policy, c.binding, msg
			break
		}
	}
	return f
}

// mutationCause is how the dispatcher begins a refusal by one policy (and binding).
type mutationCause struct {
	prefix, policy, binding string
}

// mutationCauses prints the beginning of every refusal the hooks can give with kube's own
// PolicyError: with a binding for evaluation and binding errors, without one for policy errors.
// Longer prefixes come first, so that a policy's cause is never taken for one of its bindings'.
func mutationCauses(hooks []*mutatingHook) []mutationCause {
	var out []mutationCause
	for _, h := range hooks {
		p := mutating.NewMutatingAdmissionPolicyAccessor(h.Policy)
		for _, b := range h.Bindings {
			e := generic.PolicyError{Policy: p, Binding: mutating.NewMutatingAdmissionPolicyBindingAccessor(b), Message: errors.New("")}
			out = append(out, mutationCause{prefix: e.Error(), policy: h.Policy.Name, binding: b.Name})
		}
		e := generic.PolicyError{Policy: p, Message: errors.New("")}
		out = append(out, mutationCause{prefix: e.Error(), policy: h.Policy.Name})
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].prefix) > len(out[j].prefix) })
	return out
}
