package simulate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/admission"
	webhookerrors "k8s.io/apiserver/pkg/admission/plugin/webhook/errors"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/vap"
)

// The names under which verdict's own webhooks are registered (charts/verdict, config/webhook): the
// Gatekeeper templates and Rego modules of a bundle run there in a cluster, so the API server words
// their refusals as a webhook's.
const (
	validatingWebhook = "validate.verdict.dev"
	mutatingWebhook   = "mutate.verdict.dev"
)

// policyRequest is the request the policies see: the object as admission has it so far, and the
// request's user.
func (a *attempt) policyRequest(obj, old *unstructured.Unstructured) *policies.Request {
	req := &policies.Request{
		Kind: a.gvk, Resource: a.gvr, Name: a.name, Namespace: a.namespace, Operation: policies.Operation(a.op),
		Object: obj, OldObject: old, UserInfo: a.attrs.User,
	}
	if u, err := toUnstructured(a.options, a.options.GetObjectKind().GroupVersionKind()); err == nil {
		req.Options = u
	}
	return req
}

// mutatePolicies runs the mutating policies: MutatingAdmissionPolicies, then Rego patch rules (in
// verdict's mutating webhook). It returns the object after them.
func (w *world) mutatePolicies(ctx context.Context, a *attempt, obj, old *unstructured.Unstructured, attrs admission.Attributes) (*unstructured.Unstructured, error) {
	if w.policies == nil {
		return obj, nil
	}
	m := w.policies.Mutate(ctx, a.policyRequest(obj, old))
	if len(m.Findings) > 0 && m.Findings[0].Format == vap.KindMutatingPolicy {
		return nil, mapDenial(attrs, m.Findings)
	}
	if len(m.Findings) > 0 {
		f := m.Findings[0]
		err := admission.NewForbidden(attrs, errors.New(f.Text))
		if se, ok := err.(*apierrors.StatusError); ok && f.Reason != "" {
			se.ErrStatus.Reason, se.ErrStatus.Code = f.Reason, reasonCode(f.Reason)
		}
		return nil, err
	}
	if len(m.Errors) > 0 {
		return nil, webhookerrors.ToStatusErr(mutatingWebhook, &metav1.Status{Code: http.StatusInternalServerError, Message: m.Errors[0].Error()})
	}
	return m.Object, nil
}

// validatePolicies runs the validating policies in the API server's order: the
// ValidatingAdmissionPolicy plugin first, then the validating webhooks (verdict's, for Gatekeeper
// templates and Rego). Warnings of either are recorded.
func (w *world) validatePolicies(ctx context.Context, a *attempt, obj, old *unstructured.Unstructured, attrs admission.Attributes) error {
	if w.policies == nil {
		return nil
	}
	out := w.policies.Validate(ctx, a.policyRequest(obj, old))
	if len(out.Errors) > 0 {
		return webhookerrors.ToStatusErr(validatingWebhook, &metav1.Status{Code: http.StatusInternalServerError, Message: out.Errors[0].Error()})
	}
	var hooked []policies.Finding
	for _, f := range out.Findings {
		if f.Format != vap.KindValidatingPolicy {
			hooked = append(hooked, f)
			continue
		}
		switch f.Action {
		case policies.Warn:
			a.warnings.AddWarning("", f.Text)
		case policies.Deny:
			return vapDenial(attrs, f)
		}
	}
	var denials []string
	reason := metav1.StatusReason("")
	for _, f := range hooked {
		switch f.Action {
		case policies.Warn:
			a.warnings.AddWarning("", f.Text)
		case policies.Deny:
			if len(denials) == 0 {
				reason = f.Reason
			}
			denials = append(denials, f.Text)
		}
	}
	if len(denials) == 0 {
		return nil
	}
	if reason == "" {
		reason = metav1.StatusReasonForbidden
	}
	return webhookerrors.ToStatusErr(validatingWebhook, &metav1.Status{
		Status: metav1.StatusFailure, Code: reasonCode(reason), Reason: reason, Message: strings.Join(denials, "; "),
	})
}

// vapDenial is the ValidatingAdmissionPolicy plugin's error for its first denial
// (k8s.io/apiserver/pkg/admission/plugin/policy/validating, the dispatcher): Forbidden's wording,
// the validation's reason (Invalid when it has none), and the message as a cause.
func vapDenial(attrs admission.Attributes, f policies.Finding) error {
	err := admission.NewForbidden(attrs, errors.New(f.Text))
	se, ok := err.(*apierrors.StatusError)
	if !ok {
		return err
	}
	reason := f.Reason
	if reason == "" {
		reason = metav1.StatusReasonInvalid
	}
	se.ErrStatus.Reason, se.ErrStatus.Code = reason, reasonCode(reason)
	if se.ErrStatus.Details != nil {
		se.ErrStatus.Details.Causes = append(se.ErrStatus.Details.Causes, metav1.StatusCause{Message: f.Text})
	}
	return se
}

// mapDenial is the MutatingAdmissionPolicy plugin's error for the mutations that failed
// (k8s.io/apiserver/pkg/admission/plugin/policy/generic, policyDispatcher.Dispatch): Forbidden's
// wording and code, the first failure's message and reason, and every failure as a cause, each
// worded as generic.PolicyError words it.
func mapDenial(attrs admission.Attributes, findings []policies.Finding) error {
	err := admission.NewForbidden(attrs, errors.New("admission request denied by policy"))
	se, ok := err.(*apierrors.StatusError)
	if !ok {
		return err
	}
	se.ErrStatus.Message = ""
	for _, f := range findings {
		if f.Format != vap.KindMutatingPolicy {
			continue
		}
		message := fmt.Sprintf("policy %q denied request: %s", f.Policy, f.Message)
		if f.Binding != "" {
			message = fmt.Sprintf("policy '%s' with binding '%s' denied request: %s", f.Policy, f.Binding, f.Message)
		}
		if se.ErrStatus.Message == "" {
			se.ErrStatus.Message = message
			if f.Reason != "" {
				se.ErrStatus.Reason = f.Reason
			}
		}
		if se.ErrStatus.Details != nil {
			se.ErrStatus.Details.Causes = append(se.ErrStatus.Details.Causes, metav1.StatusCause{Message: message})
		}
	}
	return se
}

// reasonCode is the HTTP code of a status reason, as the policy dispatchers map it.
func reasonCode(r metav1.StatusReason) int32 {
	switch r {
	case metav1.StatusReasonUnauthorized:
		return http.StatusUnauthorized
	case metav1.StatusReasonInvalid:
		return http.StatusUnprocessableEntity
	case metav1.StatusReasonRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusForbidden
}
