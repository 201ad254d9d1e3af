package vap

import (
	"context"
	"fmt"
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	admissionauthorizer "k8s.io/apiserver/pkg/admission/plugin/authorizer"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	vcel "github.com/verdict-dev/verdict/policies/cel"
)

// Set is the compiled admission policies of a bundle, with their bindings. It is immutable.
type Set struct {
	validating []*validatingHook
	mutating   []*mutatingHook
	matcher    generic.PolicyMatcher
	store      *policies.Store
	converters typeConverters
	// dispatcher and hooks run the mutating policies; prepared once, as kube-apiserver's plugin
	// keeps one dispatcher for every request.
	dispatcher generic.Dispatcher[mutating.PolicyHook]
	hooks      []mutating.PolicyHook
	// causes are how the dispatcher begins each refusal, to tell which policy and binding it is about.
	causes []mutationCause
}

// Options are what compilation needs besides the policy documents.
type Options struct {
	// Resources resolves paramKinds to resources and scopes.
	Resources *manifest.Resources
	// Store holds the params and namespaces the policies read.
	Store *policies.Store
	// CRDs are the CustomResourceDefinitions among the inputs, whose schemas ApplyConfiguration
	// mutations of custom resources merge with.
	CRDs []*unstructured.Unstructured
}

// Compile compiles the policy and binding documents among docs (those for which Handles is true).
// Every error names its file and document; warnings name bindings without a policy and policies
// without a binding, which judge nothing.
func Compile(docs []manifest.Document, opts Options) (*Set, []string, error) {
	s := &Set{
		store:   opts.Store,
		matcher: generic.NewPolicyMatcher(matching.NewMatcher(opts.Store.NamespaceLister(), nil)),
	}
	var errs manifest.ObjectErrors
	vc := validatingCompiler{opts: opts, hooks: map[string]*validatingHook{}, policies: manifest.Definitions{}, bindingDocs: manifest.Definitions{}}
	mc := newMutatingCompiler(opts)
	for _, d := range docs {
		if !Handles(d.Object) {
			continue
		}
		var err error
		switch d.Object.GetKind() {
		case KindValidatingPolicy, KindValidatingPolicyBinding:
			err = vc.add(d)
		case KindMutatingPolicy, KindMutatingPolicyBinding:
			err = mc.add(d)
		}
		if err != nil {
			errs.Add(d, err)
		}
	}
	var warnings []string
	s.validating, warnings = vc.compile()

	mhooks, mwarnings, merrs := mc.compile()
	s.mutating = mhooks
	if len(mhooks) > 0 {
		var cwarnings []string
		s.converters.crds, cwarnings = crdConverters(opts.CRDs)
		warnings = append(warnings, cwarnings...)
		s.dispatcher = mutating.NewDispatcher(vcel.NoAuthorizer, matching.NewMatcher(opts.Store.NamespaceLister(), nil), s.converters)
		s.hooks = make([]mutating.PolicyHook, len(mhooks))
		for i, h := range mhooks {
			s.hooks[i] = *h
		}
		s.causes = mutationCauses(mhooks)
	}
	warnings = append(warnings, mwarnings...)
	errs = append(errs, merrs...)
	sort.Strings(warnings)
	if err := errs.Err(); err != nil {
		return nil, warnings, err
	}
	return s, warnings, nil
}

// validatingCompiler gathers the ValidatingAdmissionPolicies and their bindings of a set.
type validatingCompiler struct {
	opts        Options
	hooks       map[string]*validatingHook
	policies    manifest.Definitions
	bindings    []*admissionregistrationv1.ValidatingAdmissionPolicyBinding
	bindingDocs manifest.Definitions
}

func (c *validatingCompiler) add(d manifest.Document) error {
	if d.Object.GetKind() == KindValidatingPolicy {
		p, err := decodeValidatingPolicy(d.Object)
		if err != nil {
			return err
		}
		if _, dup := c.policies[p.Name]; dup {
			return c.policies.Define(p.Name, d) // says where it was defined first
		}
		// Only a policy that compiles is defined: a later one of the same name is compiled too.
		h, err := compileValidating(p, c.opts)
		if err != nil {
			return err
		}
		c.hooks[p.Name] = h
		return c.policies.Define(p.Name, d)
	}
	b, err := decodeValidatingBinding(d.Object)
	if err != nil {
		return err
	}
	if err := fieldErr(validateValidatingBinding(b)); err != nil {
		return err
	}
	if err := c.bindingDocs.Define(b.Name, d); err != nil {
		return err
	}
	c.bindings = append(c.bindings, b)
	return nil
}

// compile pairs the bindings with their policies: the hooks that judge, in name order, and warnings
// for the policies and bindings that judge nothing.
func (c *validatingCompiler) compile() ([]*validatingHook, []string) {
	var warnings []string
	for _, b := range c.bindings {
		h, ok := c.hooks[b.Spec.PolicyName]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s: ValidatingAdmissionPolicyBinding %q binds ValidatingAdmissionPolicy %q, which is not among the policies: it judges nothing",
				c.bindingDocs[b.Name].Source(), b.Name, b.Spec.PolicyName))
			continue
		}
		h.bindings = append(h.bindings, b)
	}
	var hooks []*validatingHook
	for name, h := range c.hooks {
		if len(h.bindings) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: ValidatingAdmissionPolicy %q has no ValidatingAdmissionPolicyBinding: it judges nothing",
				c.policies[name].Source(), name))
			continue
		}
		sort.Slice(h.bindings, func(i, j int) bool { return h.bindings[i].Name < h.bindings[j].Name })
		hooks = append(hooks, h)
	}
	sort.Slice(hooks, func(i, j int) bool { return hooks[i].policy.Name < hooks[j].policy.Name })
	return hooks, warnings
}

func compileValidating(p *admissionregistrationv1.ValidatingAdmissionPolicy, opts Options) (*validatingHook, error) {
	if err := fieldErr(validateValidatingPolicy(p)); err != nil {
		return nil, err
	}
	ev, errs := vcel.Compile(vcel.Spec{
		Name:             p.Name,
		Variables:        p.Spec.Variables,
		MatchConditions:  p.Spec.MatchConditions,
		Validations:      p.Spec.Validations,
		AuditAnnotations: p.Spec.AuditAnnotations,
		HasParams:        p.Spec.ParamKind != nil,
		FailurePolicy:    p.Spec.FailurePolicy,
	}, field.NewPath("spec"))
	if err := fieldErr(errs); err != nil {
		return nil, err
	}
	h := &validatingHook{policy: p, evaluator: ev}
	if pk := p.Spec.ParamKind; pk != nil {
		gvk, err := paramGVK(pk)
		if err != nil {
			return nil, err
		}
		h.params = paramsFor(gvk, opts.Resources, opts.Store)
		if h.params == nil {
			h.configErr = fmt.Errorf("paramKind kind `%v` not known", pk.String())
		}
	}
	return h, nil
}

// Validate judges a request against every ValidatingAdmissionPolicy, in the order of their names.
func (s *Set) Validate(ctx context.Context, req *policies.Request) policies.Outcome {
	var out policies.Outcome
	if len(s.validating) == 0 {
		return out
	}
	a := vcel.Attributes(req)
	authz := admissionauthorizer.NewCachingAuthorizer(vcel.NoAuthorizer)
	versioned := map[schema.GroupVersionKind]*admission.VersionedAttributes{}
	for _, h := range s.validating {
		if ctx.Err() != nil {
			out.Findings = append(out.Findings, finding(h.policy.Name, "", policies.Deny, ctx.Err().Error(), ""))
			break
		}
		done := policies.Observe(ctx, h.policy.Name, policies.CEL)
		before := len(out.Findings)
		s.validate(ctx, h, a, authz, versioned, &out)
		done(out.Findings[before:])
	}
	return out
}

var _ policies.Validator = (*Set)(nil)

// Len counts the compiled policies that have bindings.
func (s *Set) Len() int { return len(s.validating) + len(s.mutating) }

// ParamKinds returns the kinds the policies take params of.
func (s *Set) ParamKinds() map[schema.GroupVersionKind]bool {
	out := map[schema.GroupVersionKind]bool{}
	for _, h := range s.validating {
		if pk := h.policy.Spec.ParamKind; pk != nil {
			if gvk, err := paramGVK(pk); err == nil {
				out[gvk] = true
			}
		}
	}
	for _, h := range s.mutating {
		if pk := h.Policy.Spec.ParamKind; pk != nil {
			if gvk, err := paramGVK(pk); err == nil {
				out[gvk] = true
			}
		}
	}
	return out
}
