package vap

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/rules"

	"github.com/verdict-dev/verdict/policies"
)

// Selects lists the validating policies, each with each of its bindings, whose resource rules take
// requests of operation op on objects of r: the policy's matchConstraints and the binding's
// matchResources, their excluded rules included, tested with the API server's own rule matcher.
// Selectors on objects and namespaces and matchConditions are not looked at, so a policy listed
// may still leave some objects alone; one not listed judges none. Under matchPolicy Equivalent (the
// default) a rule is taken in any version of its group, as the API server converts the request.
func (s *Set) Selects(r policies.Resource, op policies.Operation) []policies.Ref {
	a := resourceAttributes(r, op)
	var out []policies.Ref
	for _, h := range s.validating {
		if !rulesTake(h.policy.Spec.MatchConstraints, a, true) {
			continue
		}
		for _, b := range h.bindings {
			if rulesTake(b.Spec.MatchResources, a, false) {
				out = append(out, policies.Ref{Policy: h.policy.Name, Binding: b.Name, Engine: policies.CEL, Format: KindValidatingPolicy})
			}
		}
	}
	return out
}

// resourceAttributes is a request of op on an object of r, as far as resource rules look at it.
func resourceAttributes(r policies.Resource, op policies.Operation) admission.Attributes {
	ns := ""
	if r.Namespaced {
		ns = "namespace" // any: the rules' scope only asks whether there is one
	}
	return admission.NewAttributesRecord(nil, nil, r.Kind, ns, "", r.Resource, "", admission.Operation(op), nil, false, nil)
}

// rulesTake reports whether the resource rules of m take a. Nil match resources, or no resource
// rules, take everything unless required (a policy's matchConstraints must name resources).
func rulesTake(m *admissionregistrationv1.MatchResources, a admission.Attributes, required bool) bool {
	if m == nil || len(m.ResourceRules) == 0 {
		return !required
	}
	equivalent := m.MatchPolicy == nil || *m.MatchPolicy == admissionregistrationv1.Equivalent
	// A rule for named objects takes some objects of the kind, as far as a kind is concerned.
	take := func(rule admissionregistrationv1.NamedRuleWithOperations) bool {
		r := rule.RuleWithOperations
		if equivalent {
			r.APIVersions = []string{"*"}
		}
		return (&rules.Matcher{Rule: r, Attr: a}).Matches()
	}
	for _, rule := range m.ExcludeResourceRules {
		if len(rule.ResourceNames) == 0 && take(rule) {
			return false
		}
	}
	for _, rule := range m.ResourceRules {
		if take(rule) {
			return true
		}
	}
	return false
}

// Refs lists every validating policy with each of its bindings, in the order they judge.
func (s *Set) Refs() []policies.Ref {
	var out []policies.Ref
	for _, h := range s.validating {
		for _, b := range h.bindings {
			out = append(out, policies.Ref{Policy: h.policy.Name, Binding: b.Name, Engine: policies.CEL, Format: KindValidatingPolicy})
		}
	}
	return out
}
