package vap

import (
	"encoding/json"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// Group is the API group of admission policies.
const Group = "admissionregistration.k8s.io"

// The kinds this package reads.
const (
	KindValidatingPolicy        = "ValidatingAdmissionPolicy"
	KindValidatingPolicyBinding = "ValidatingAdmissionPolicyBinding"
	KindMutatingPolicy          = "MutatingAdmissionPolicy"
	KindMutatingPolicyBinding   = "MutatingAdmissionPolicyBinding"
)

// servedVersions are the versions of admissionregistration.k8s.io whose policy kinds are read. The
// v1beta1 and v1alpha1 shapes of the validating kinds are the same as v1's.
var servedVersions = map[string]bool{"v1": true, "v1beta1": true, "v1alpha1": true}

// Handles reports whether obj is one of the kinds this package reads.
func Handles(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	if gvk.Group != Group || !servedVersions[gvk.Version] {
		return false
	}
	switch gvk.Kind {
	case KindValidatingPolicy, KindValidatingPolicyBinding, KindMutatingPolicy, KindMutatingPolicyBinding:
		return true
	}
	return false
}

// fromUnstructured decodes obj into out, refusing unknown and duplicate fields and wrong types with
// their field paths, as the API server's strict field validation (kubectl's default) does.
func fromUnstructured(obj *unstructured.Unstructured, out any) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(data, out)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func decodeValidatingPolicy(obj *unstructured.Unstructured) (*admissionregistrationv1.ValidatingAdmissionPolicy, error) {
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := fromUnstructured(obj, p); err != nil {
		return nil, err
	}
	p.SetGroupVersionKind(admissionregistrationv1.SchemeGroupVersion.WithKind(KindValidatingPolicy))
	defaultPolicySpec(&p.Spec)
	return p, nil
}

func decodeValidatingBinding(obj *unstructured.Unstructured) (*admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	if err := fromUnstructured(obj, b); err != nil {
		return nil, err
	}
	b.SetGroupVersionKind(admissionregistrationv1.SchemeGroupVersion.WithKind(KindValidatingPolicyBinding))
	if b.Spec.MatchResources != nil {
		defaultMatchResources(b.Spec.MatchResources)
	}
	return b, nil
}

// defaultPolicySpec applies the API server's defaults (pkg/apis/admissionregistration/v1/defaults.go).
func defaultPolicySpec(spec *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
	if spec.FailurePolicy == nil {
		f := admissionregistrationv1.Fail
		spec.FailurePolicy = &f
	}
	if spec.MatchConstraints != nil {
		defaultMatchResources(spec.MatchConstraints)
	}
}

func defaultMatchResources(m *admissionregistrationv1.MatchResources) {
	if m.MatchPolicy == nil {
		p := admissionregistrationv1.Equivalent
		m.MatchPolicy = &p
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	defaultRules(m.ResourceRules)
	defaultRules(m.ExcludeResourceRules)
}

func defaultRules(rules []admissionregistrationv1.NamedRuleWithOperations) {
	for i := range rules {
		if rules[i].Scope == nil {
			s := admissionregistrationv1.AllScopes
			rules[i].Scope = &s
		}
	}
}

// paramGVK returns the kind named by a paramKind.
func paramGVK(pk *admissionregistrationv1.ParamKind) (schema.GroupVersionKind, error) {
	gv, err := schema.ParseGroupVersion(pk.APIVersion)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("spec.paramKind.apiVersion: %w", err)
	}
	return gv.WithKind(pk.Kind), nil
}
