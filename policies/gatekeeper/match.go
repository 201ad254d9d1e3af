package gatekeeper

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// matchDoc is a constraint's spec.match block.
type matchDoc struct {
	Kinds []struct {
		APIGroups []string `json:"apiGroups"`
		Kinds     []string `json:"kinds"`
	} `json:"kinds"`
	Scope              string                `json:"scope"`
	Namespaces         []string              `json:"namespaces"`
	ExcludedNamespaces []string              `json:"excludedNamespaces"`
	LabelSelector      *metav1.LabelSelector `json:"labelSelector"`
	NamespaceSelector  *metav1.LabelSelector `json:"namespaceSelector"`
	Name               string                `json:"name"`
	Source             string                `json:"source"`
}

// matcher is a compiled match block. A nil matcher matches everything, as a constraint without
// spec.match does.
type matcher struct {
	doc               matchDoc
	labelSelector     labels.Selector
	namespaceSelector labels.Selector
}

// The sources a match block may name; verdict judges only original objects (no generator expansion).
const (
	sourceAll       = "All"
	sourceOriginal  = "Original"
	sourceGenerated = "Generated"
)

func compileMatch(raw any) (*matcher, error) {
	if raw == nil {
		return nil, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	m := &matcher{}
	if err := json.Unmarshal(data, &m.doc); err != nil {
		return nil, fmt.Errorf("spec.match: %w", err)
	}
	var errs field.ErrorList
	if s := m.doc.LabelSelector; s != nil {
		errs = append(errs, validation.ValidateLabelSelector(s, validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "match", "labelSelector"))...)
	}
	if s := m.doc.NamespaceSelector; s != nil {
		errs = append(errs, validation.ValidateLabelSelector(s, validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "match", "namespaceSelector"))...)
	}
	switch m.doc.Source {
	case "", sourceAll, sourceOriginal, sourceGenerated:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("spec", "match", "source"), m.doc.Source, []string{sourceAll, sourceOriginal, sourceGenerated}))
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if s := m.doc.LabelSelector; s != nil {
		if m.labelSelector, err = metav1.LabelSelectorAsSelector(s); err != nil {
			return nil, fmt.Errorf("spec.match.labelSelector: %w", err)
		}
	}
	if s := m.doc.NamespaceSelector; s != nil {
		if m.namespaceSelector, err = metav1.LabelSelectorAsSelector(s); err != nil {
			return nil, fmt.Errorf("spec.match.namespaceSelector: %w", err)
		}
	}
	return m, nil
}

// matches reports whether the constraint applies to a review of object and oldObject (either may be
// nil) with ns the namespace Gatekeeper knows for the request (nil if none): as Gatekeeper, it
// matches when either object matches.
func (m *matcher) matches(object, oldObject *unstructured.Unstructured, ns *corev1.Namespace) (bool, error) {
	if m == nil {
		return true, nil
	}
	if object == nil && oldObject == nil {
		return false, fmt.Errorf("neither object nor old object are defined")
	}
	for _, obj := range []*unstructured.Unstructured{object, oldObject} {
		if obj == nil {
			continue
		}
		ok, err := m.matchObject(obj, ns)
		if err != nil {
			// As Gatekeeper's target matcher words it (pkg/target.matchAny, pkg/mutation/match.Matches).
			return false, fmt.Errorf("error matching the requested object: %v :failed to run Match criteria: %w", obj.GetName(), err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// matchObject applies every criterion of the match block to one object; all must hold.
func (m *matcher) matchObject(obj *unstructured.Unstructured, ns *corev1.Namespace) (bool, error) {
	if !m.kindsMatch(obj) || !m.scopeMatch(obj, ns) || !m.namespacesMatch(obj, ns) || !m.excludedNamespacesMatch(obj, ns) ||
		!m.labelsMatch(obj) {
		return false, nil
	}
	ok, err := m.namespaceSelectorMatch(obj, ns)
	if err != nil || !ok {
		return false, err
	}
	return m.nameMatch(obj) && m.sourceMatch(), nil
}

func isNamespace(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Kind == "Namespace" && gvk.Group == ""
}

func (m *matcher) kindsMatch(obj *unstructured.Unstructured) bool {
	if len(m.doc.Kinds) == 0 {
		return true
	}
	gvk := obj.GroupVersionKind()
	for _, k := range m.doc.Kinds {
		if (len(k.Kinds) == 0 || contains(k.Kinds, "*") || contains(k.Kinds, gvk.Kind)) &&
			(len(k.APIGroups) == 0 || contains(k.APIGroups, "*") || contains(k.APIGroups, gvk.Group)) {
			return true
		}
	}
	return false
}

func (m *matcher) scopeMatch(obj *unstructured.Unstructured, ns *corev1.Namespace) bool {
	hasNamespace := obj.GetNamespace() != "" || ns != nil
	switch m.doc.Scope {
	case "Cluster":
		return isNamespace(obj) || !hasNamespace
	case "Namespaced":
		return !isNamespace(obj) && hasNamespace
	}
	// "*", empty, and anything else (Gatekeeper does not refuse typos here).
	return true
}

// namespaceOf is the namespace name the namespace criteria look at, and whether there is one: a
// Namespace is its own, a namespaced object has the request's (or failing that its own), and a
// cluster-scoped object has none.
func namespaceOf(obj *unstructured.Unstructured, ns *corev1.Namespace) (string, bool) {
	switch {
	case isNamespace(obj):
		return obj.GetName(), true
	case ns != nil:
		return ns.Name, true
	case obj.GetNamespace() != "":
		return obj.GetNamespace(), true
	}
	return "", false
}

func (m *matcher) namespacesMatch(obj *unstructured.Unstructured, ns *corev1.Namespace) bool {
	if len(m.doc.Namespaces) == 0 {
		return true
	}
	name, ok := namespaceOf(obj, ns)
	if !ok {
		return true
	}
	for _, w := range m.doc.Namespaces {
		if wildcardMatches(w, name) {
			return true
		}
	}
	return false
}

func (m *matcher) excludedNamespacesMatch(obj *unstructured.Unstructured, ns *corev1.Namespace) bool {
	if len(m.doc.ExcludedNamespaces) == 0 {
		return true
	}
	name, ok := namespaceOf(obj, ns)
	if !ok {
		return true
	}
	for _, w := range m.doc.ExcludedNamespaces {
		if wildcardMatches(w, name) {
			return false
		}
	}
	return true
}

func (m *matcher) labelsMatch(obj *unstructured.Unstructured) bool {
	if m.labelSelector == nil {
		return true
	}
	return m.labelSelector.Matches(labels.Set(obj.GetLabels()))
}

func (m *matcher) namespaceSelectorMatch(obj *unstructured.Unstructured, ns *corev1.Namespace) (bool, error) {
	if m.namespaceSelector == nil {
		return true, nil
	}
	switch {
	case isNamespace(obj):
		return m.namespaceSelector.Matches(labels.Set(obj.GetLabels())), nil
	case ns == nil && obj.GetNamespace() == "":
		return true, nil // cluster-scoped objects always match
	case ns == nil:
		return false, fmt.Errorf("namespace selector for namespace-scoped object but missing Namespace")
	}
	return m.namespaceSelector.Matches(labels.Set(ns.Labels)), nil
}

func (m *matcher) nameMatch(obj *unstructured.Unstructured) bool {
	if m.doc.Name == "" {
		return true
	}
	return wildcardMatches(m.doc.Name, obj.GetName()) || generateNameMatches(m.doc.Name, obj.GetGenerateName())
}

func (m *matcher) sourceMatch() bool {
	return m.doc.Source != sourceGenerated
}

// wildcardMatches is Gatekeeper's glob: "*" at the start, the end or both, else an exact match.
func wildcardMatches(w, candidate string) bool {
	switch {
	case strings.HasPrefix(w, "*") && strings.HasSuffix(w, "*"):
		return strings.Contains(candidate, strings.TrimSuffix(strings.TrimPrefix(w, "*"), "*"))
	case strings.HasPrefix(w, "*"):
		return strings.HasSuffix(candidate, strings.TrimPrefix(w, "*"))
	case strings.HasSuffix(w, "*"):
		return strings.HasPrefix(candidate, strings.TrimSuffix(w, "*"))
	}
	return w == candidate
}

// generateNameMatches matches a name glob against metadata.generateName, whose suffix is not known
// yet: only a prefix (or infix) glob can match it.
func generateNameMatches(w, generateName string) bool {
	if generateName == "" {
		return false
	}
	switch {
	case strings.HasPrefix(w, "*") && strings.HasSuffix(w, "*"):
		return strings.Contains(generateName, strings.TrimSuffix(strings.TrimPrefix(w, "*"), "*"))
	case strings.HasSuffix(w, "*"):
		return strings.HasPrefix(generateName, strings.TrimSuffix(w, "*"))
	}
	return false
}

func contains(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}
