package vap

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/policies"
	vcel "github.com/verdict-dev/verdict/policies/cel"
)

// maxAuditAnnotationValueLength is the API server's bound on one audit annotation value.
const maxAuditAnnotationValueLength = 10 * 1024

// validatingHook is one compiled ValidatingAdmissionPolicy with its bindings, as kube-apiserver's
// policy source pairs them.
type validatingHook struct {
	policy    *admissionregistrationv1.ValidatingAdmissionPolicy
	bindings  []*admissionregistrationv1.ValidatingAdmissionPolicyBinding
	evaluator vcel.Validator
	params    *paramSource // nil without paramKind, or when the kind is unknown
	// configErr is reported for every matching request under the policy's failurePolicy, as
	// kube-apiserver reports a policy whose paramKind it cannot resolve.
	configErr error
}

func (h *validatingHook) failurePolicy() admissionregistrationv1.FailurePolicyType {
	if h.policy.Spec.FailurePolicy == nil {
		return admissionregistrationv1.Fail
	}
	return *h.policy.Spec.FailurePolicy
}

// validate judges one request against one policy and its bindings, with the semantics of
// kube-apiserver's validating dispatcher, but recording every finding instead of stopping at the first.
func (s *Set) validate(ctx context.Context, h *validatingHook, a admission.Attributes, authz authorizer.UnconditionalAuthorizer, versioned map[schema.GroupVersionKind]*admission.VersionedAttributes, out *policies.Outcome) {
	matches, matchResource, matchKind, err := s.matcher.DefinitionMatches(a, vcel.ObjectInterfaces, validating.NewValidatingAdmissionPolicyAccessor(h.policy))
	r := &hookRun{s: s, h: h, a: a, authz: authz, versioned: versioned, out: out, resource: matchResource, kind: matchKind, annotations: newAnnotationCollector()}
	if err != nil {
		r.configError(err, nil)
		return
	}
	if !matches {
		return
	}
	if h.configErr != nil {
		r.configError(h.configErr, nil)
		return
	}
	for _, binding := range h.bindings {
		r.binding(ctx, binding)
	}
	r.annotations.publish(h.policy.Name, out)
}

// hookRun is one request's judging by one policy: what its bindings share.
type hookRun struct {
	s           *Set
	h           *validatingHook
	a           admission.Attributes
	authz       authorizer.UnconditionalAuthorizer
	versioned   map[schema.GroupVersionKind]*admission.VersionedAttributes // per matched kind, shared by the request's policies
	out         *policies.Outcome
	resource    schema.GroupVersionResource // as the policy's matchConstraints matched the request
	kind        schema.GroupVersionKind
	annotations annotationCollector
}

// configError records a policy or binding that cannot be used, as the dispatcher words it; under
// failurePolicy Ignore it is dropped.
func (r *hookRun) configError(err error, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	if r.h.failurePolicy() == admissionregistrationv1.Ignore {
		return
	}
	msg := fmt.Errorf("failed to configure policy: %w", err).Error()
	bindingName := ""
	if binding != nil {
		msg = fmt.Errorf("failed to configure binding: %w", err).Error()
		bindingName = binding.Name
	}
	r.out.Findings = append(r.out.Findings, finding(r.h.policy.Name, bindingName, policies.Deny, msg, ""))
}

// binding judges the request with one binding, once per param.
func (r *hookRun) binding(ctx context.Context, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	matches, err := r.s.matcher.BindingMatches(r.a, vcel.ObjectInterfaces, validating.NewValidatingAdmissionPolicyBindingAccessor(binding))
	if err != nil {
		r.configError(err, binding)
		return
	}
	if !matches {
		return
	}
	policy := r.h.policy
	r.out.Judged = append(r.out.Judged, policies.Ref{Policy: policy.Name, Binding: binding.Name, Engine: policies.CEL, Format: KindValidatingPolicy})
	params, err := r.h.collectParams(binding, r.a.GetNamespace())
	if err != nil {
		r.configError(err, binding)
		return
	}
	va := r.versioned[r.kind]
	if va == nil && len(params) > 0 {
		va, err = admission.NewVersionedAttributes(r.a, r.kind, vcel.ObjectInterfaces)
		if err != nil {
			r.configError(fmt.Errorf("failed to convert object version: %w", err), binding)
			return
		}
		r.versioned[r.kind] = va
	}
	namespace, err := r.namespace()
	if err != nil {
		r.configError(err, binding)
		return
	}
	for _, param := range params {
		// Params come from manifests, so they always carry apiVersion and kind for CEL.
		res := r.h.evaluator.Validate(ctx, r.resource, va, param, namespace, celconfig.RuntimeCELCostBudget, r.authz)
		recordDecisions(res, policy.Name, binding, r.out)
		for _, an := range res.AuditAnnotations {
			switch an.Action {
			case validating.AuditAnnotationActionPublish:
				v := an.Value
				if len(v) > maxAuditAnnotationValueLength {
					v = v[:maxAuditAnnotationValueLength]
				}
				r.annotations.add(an.Key, v)
			case validating.AuditAnnotationActionError:
				r.out.Findings = append(r.out.Findings, finding(policy.Name, binding.Name, policies.Deny, an.Error, ""))
			}
		}
	}
}

// namespace is the request's Namespace for CEL's namespaceObject, or nil.
func (r *hookRun) namespace() (*corev1.Namespace, error) {
	name := r.a.GetNamespace()
	// kube-apiserver gives a Namespace object its own name as namespace; it has none.
	if gvk := r.a.GetKind(); gvk.Kind == "Namespace" && gvk.Version == "v1" && gvk.Group == "" {
		name = ""
	}
	if name == "" {
		return nil, nil
	}
	return r.s.store.Namespace(name)
}

func (h *validatingHook) collectParams(binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding, namespace string) ([]runtime.Object, error) {
	if h.policy.Spec.ParamKind == nil || binding.Spec.ParamRef == nil {
		return []runtime.Object{nil}, nil
	}
	if h.params == nil {
		return nil, fmt.Errorf("paramKind kind `%v` not known", h.policy.Spec.ParamKind.String())
	}
	return generic.CollectParams(h.policy.Spec.ParamKind, h.params.informer, h.params.scope, binding.Spec.ParamRef, namespace, nil, nil)
}

// recordDecisions turns the validator's decisions into findings, one per validation action of the
// binding, as kube-apiserver denies, warns and audits.
func recordDecisions(res validating.ValidateResult, policy string, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding, out *policies.Outcome) {
	for _, d := range res.Decisions {
		if d.Action != validating.ActionDeny {
			continue
		}
		for _, action := range binding.Spec.ValidationActions {
			switch action {
			case admissionregistrationv1.Deny:
				out.Findings = append(out.Findings, finding(policy, binding.Name, policies.Deny, d.Message, d.Reason))
			case admissionregistrationv1.Warn:
				out.Findings = append(out.Findings, finding(policy, binding.Name, policies.Warn, d.Message, d.Reason))
			case admissionregistrationv1.Audit:
				out.Findings = append(out.Findings, finding(policy, binding.Name, policies.Audit, d.Message, d.Reason))
			}
		}
	}
}

func finding(policy, binding string, action policies.Action, msg string, reason metav1.StatusReason) policies.Finding {
	f := policies.Finding{
		Policy: policy, Binding: binding, Engine: policies.CEL, Action: action,
		Message: msg, Reason: reason, Format: KindValidatingPolicy,
	}
	// As kube-apiserver's validating admission policy plugin words a denial and a Warn action.
	switch action {
	case policies.Deny:
		f.Text = fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", policy, binding, policies.OneLine(msg))
	case policies.Warn:
		f.Text = fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", policy, binding, policies.OneLine(msg))
	}
	return f
}

// annotationCollector merges the audit annotations of a policy's bindings as kube-apiserver does:
// distinct values of one key are joined with ", ".
type annotationCollector map[string][]string

func newAnnotationCollector() annotationCollector { return annotationCollector{} }

func (c annotationCollector) add(key, value string) {
	for _, v := range c[key] {
		if v == value {
			return
		}
	}
	c[key] = append(c[key], value)
}

func (c annotationCollector) publish(policy string, out *policies.Outcome) {
	for key, values := range c {
		if out.AuditAnnotations == nil {
			out.AuditAnnotations = map[string]string{}
		}
		v := values[0]
		for _, more := range values[1:] {
			v += ", " + more
		}
		out.AuditAnnotations[policy+"/"+key] = v
	}
}
