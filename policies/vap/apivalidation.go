package vap

// The checks of this file are those the API server makes when a policy or binding is created
// (pkg/apis/admissionregistration/validation), run when a set is compiled; evaluation is in
// validating.go and mutating.go.

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The structural checks below follow kube-apiserver's validation of admission policies
// (pkg/apis/admissionregistration/validation), so that a policy the API server refuses is refused at
// load with the same field path. CEL expressions are checked by compiling them (compile.go).

const maxMatchConditions = 64

var supportedReasons = sets.New(metav1.StatusReasonUnauthorized, metav1.StatusReasonForbidden,
	metav1.StatusReasonInvalid, metav1.StatusReasonRequestEntityTooLarge)

func validateMatchResources(m *admissionregistrationv1.MatchResources, fld *field.Path, requireRules bool) field.ErrorList {
	var errs field.ErrorList
	if m == nil {
		return append(errs, field.Required(fld, ""))
	}
	if m.NamespaceSelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(m.NamespaceSelector); err != nil {
			errs = append(errs, field.Invalid(fld.Child("namespaceSelector"), m.NamespaceSelector, err.Error()))
		}
	}
	if m.ObjectSelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(m.ObjectSelector); err != nil {
			errs = append(errs, field.Invalid(fld.Child("objectSelector"), m.ObjectSelector, err.Error()))
		}
	}
	if m.MatchPolicy != nil && *m.MatchPolicy != admissionregistrationv1.Exact && *m.MatchPolicy != admissionregistrationv1.Equivalent {
		errs = append(errs, field.NotSupported(fld.Child("matchPolicy"), *m.MatchPolicy, []string{"Equivalent", "Exact"}))
	}
	if requireRules && len(m.ResourceRules) == 0 {
		errs = append(errs, field.Required(fld.Child("resourceRules"), ""))
	}
	for i, r := range m.ResourceRules {
		errs = append(errs, validateNamedRule(&r, fld.Child("resourceRules").Index(i))...)
	}
	for i, r := range m.ExcludeResourceRules {
		errs = append(errs, validateNamedRule(&r, fld.Child("excludeResourceRules").Index(i))...)
	}
	return errs
}

func validateNamedRule(r *admissionregistrationv1.NamedRuleWithOperations, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	ops := fld.Child("operations")
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(ops, ""))
	}
	if len(r.Operations) > 1 && hasWildcard(r.Operations) {
		errs = append(errs, field.Invalid(ops, r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, op := range r.Operations {
		switch op {
		case admissionregistrationv1.OperationAll, admissionregistrationv1.Create, admissionregistrationv1.Update,
			admissionregistrationv1.Delete, admissionregistrationv1.Connect:
		default:
			errs = append(errs, field.NotSupported(ops.Index(i), op, []string{"*", "CREATE", "UPDATE", "DELETE", "CONNECT"}))
		}
	}
	errs = append(errs, validateList(r.APIGroups, fld.Child("apiGroups"))...)
	errs = append(errs, validateList(r.APIVersions, fld.Child("apiVersions"))...)
	errs = append(errs, validateResources(r.Resources, fld.Child("resources"))...)
	if r.Scope != nil {
		switch *r.Scope {
		case admissionregistrationv1.ClusterScope, admissionregistrationv1.NamespacedScope, admissionregistrationv1.AllScopes:
		default:
			errs = append(errs, field.NotSupported(fld.Child("scope"), *r.Scope, []string{"Cluster", "Namespaced", "*"}))
		}
	}
	seen := sets.New[string]()
	for i, n := range r.ResourceNames {
		if seen.Has(n) {
			errs = append(errs, field.Duplicate(fld.Child("resourceNames").Index(i), n))
		}
		seen.Insert(n)
	}
	return errs
}

func hasWildcard[T ~string](l []T) bool {
	for _, s := range l {
		if s == "*" {
			return true
		}
	}
	return false
}

func validateList(l []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(l) == 0 {
		errs = append(errs, field.Required(fld, ""))
	}
	if len(l) > 1 && hasWildcard(l) {
		errs = append(errs, field.Invalid(fld, l, "if '*' is present, must not specify other "+fld.String()))
	}
	return errs
}

// validateResources follows the API server's rules for resource names in rules: "*", "*/*",
// "resource", "resource/sub", "resource/*" and "*/sub", with no overlap between wildcards and names.
func validateResources(resources []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(resources) == 0 {
		errs = append(errs, field.Required(fld, ""))
	}
	subs := map[string]sets.Set[string]{}
	for i, r := range resources {
		if r == "" {
			errs = append(errs, field.Required(fld.Index(i), ""))
			continue
		}
		if strings.Contains(r, "/") && strings.Count(r, "/") > 1 {
			errs = append(errs, field.Invalid(fld.Index(i), r, "must be 'resource' or 'resource/subresource'"))
			continue
		}
		res, sub, _ := strings.Cut(r, "/")
		if subs[res] == nil {
			subs[res] = sets.New[string]()
		}
		if subs[res].Has(sub) {
			errs = append(errs, field.Duplicate(fld.Index(i), r))
		}
		subs[res].Insert(sub)
	}
	if len(resources) > 1 && hasWildcard(resources) {
		errs = append(errs, field.Invalid(fld, resources, "if '*' is present, must not specify other resources without subresources"))
	}
	return errs
}

func validateMatchConditionNames(mcs []admissionregistrationv1.MatchCondition, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(mcs) > maxMatchConditions {
		errs = append(errs, field.TooMany(fld, len(mcs), maxMatchConditions))
	}
	seen := sets.New[string]()
	for i, mc := range mcs {
		p := fld.Index(i)
		if mc.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			for _, msg := range utilvalidation.IsQualifiedName(mc.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), mc.Name, msg))
			}
			if seen.Has(mc.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), mc.Name))
			}
			seen.Insert(mc.Name)
		}
		if mc.Expression == "" {
			errs = append(errs, field.Required(p.Child("expression"), ""))
		}
	}
	return errs
}

func validateVariableNames(vars []admissionregistrationv1.Variable, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, v := range vars {
		p := fld.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(p.Child("name"), "name is not specified"))
		case !isCELIdentifier(v.Name):
			errs = append(errs, field.Invalid(p.Child("name"), v.Name, "name is not a valid CEL identifier"))
		case seen.Has(v.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		}
		seen.Insert(v.Name)
		if v.Expression == "" {
			errs = append(errs, field.Required(p.Child("expression"), "expression is not specified"))
		}
	}
	return errs
}

func isCELIdentifier(s string) bool {
	for i, c := range s {
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

func validateParamKind(pk *admissionregistrationv1.ParamKind, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pk == nil {
		return nil
	}
	if pk.APIVersion == "" {
		errs = append(errs, field.Required(fld.Child("apiVersion"), ""))
	} else if gv, err := schema.ParseGroupVersion(pk.APIVersion); err != nil {
		errs = append(errs, field.Invalid(fld.Child("apiVersion"), pk.APIVersion, err.Error()))
	} else if gv.Version == "" {
		errs = append(errs, field.Invalid(fld.Child("apiVersion"), pk.APIVersion, "version must be specified"))
	}
	if pk.Kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	}
	return errs
}

func validateParamRef(pr *admissionregistrationv1.ParamRef, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pr == nil {
		return nil
	}
	switch {
	case pr.Name == "" && pr.Selector == nil:
		errs = append(errs, field.Required(fld, "one of name or selector must be specified"))
	case pr.Name != "" && pr.Selector != nil:
		errs = append(errs, field.Forbidden(fld.Child("name"), "name and selector are mutually exclusive"))
	}
	if pr.Selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(pr.Selector); err != nil {
			errs = append(errs, field.Invalid(fld.Child("selector"), pr.Selector, err.Error()))
		}
	}
	if pr.ParameterNotFoundAction == nil {
		errs = append(errs, field.Required(fld.Child("parameterNotFoundAction"), ""))
	} else if a := *pr.ParameterNotFoundAction; a != admissionregistrationv1.AllowAction && a != admissionregistrationv1.DenyAction {
		errs = append(errs, field.NotSupported(fld.Child("parameterNotFoundAction"), a, []string{"Allow", "Deny"}))
	}
	return errs
}

func validateFailurePolicy(f *admissionregistrationv1.FailurePolicyType, fld *field.Path) field.ErrorList {
	if f == nil || *f == admissionregistrationv1.Fail || *f == admissionregistrationv1.Ignore {
		return nil
	}
	return field.ErrorList{field.NotSupported(fld, *f, []string{"Fail", "Ignore"})}
}

// validateValidatingPolicy checks what the API server checks of a ValidatingAdmissionPolicy, except
// the CEL expressions, which compile() checks.
func validateValidatingPolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy) field.ErrorList {
	var errs field.ErrorList
	if p.Name == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), ""))
	}
	spec := field.NewPath("spec")
	errs = append(errs, validateFailurePolicy(p.Spec.FailurePolicy, spec.Child("failurePolicy"))...)
	errs = append(errs, validateParamKind(p.Spec.ParamKind, spec.Child("paramKind"))...)
	errs = append(errs, validateMatchResources(p.Spec.MatchConstraints, spec.Child("matchConstraints"), true)...)
	errs = append(errs, validateMatchConditionNames(p.Spec.MatchConditions, spec.Child("matchConditions"))...)
	errs = append(errs, validateVariableNames(p.Spec.Variables, spec.Child("variables"))...)
	if len(p.Spec.Validations) == 0 && len(p.Spec.AuditAnnotations) == 0 {
		errs = append(errs, field.Required(spec.Child("validations"), "validations or auditAnnotations must contain at least one item"))
	}
	for i, v := range p.Spec.Validations {
		fld := spec.Child("validations").Index(i)
		if strings.TrimSpace(v.Expression) == "" {
			errs = append(errs, field.Required(fld.Child("expression"), "expression is not specified"))
		}
		if strings.ContainsAny(v.Message, "\n") {
			errs = append(errs, field.Invalid(fld.Child("message"), v.Message, "message must not contain line breaks"))
		} else if len(v.Message) > 0 && strings.TrimSpace(v.Message) == "" {
			errs = append(errs, field.Invalid(fld.Child("message"), v.Message, "message must be non-empty if specified"))
		}
		if v.Reason != nil && !supportedReasons.Has(*v.Reason) {
			errs = append(errs, field.NotSupported(fld.Child("reason"), *v.Reason, []string{"Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"}))
		}
	}
	seen := sets.New[string]()
	for i, a := range p.Spec.AuditAnnotations {
		fld := spec.Child("auditAnnotations").Index(i)
		if a.Key == "" {
			errs = append(errs, field.Required(fld.Child("key"), ""))
		} else {
			for _, msg := range utilvalidation.IsQualifiedName(p.Name + "/" + a.Key) {
				errs = append(errs, field.Invalid(fld.Child("key"), a.Key, msg))
			}
			if seen.Has(a.Key) {
				errs = append(errs, field.Duplicate(fld.Child("key"), a.Key))
			}
			seen.Insert(a.Key)
		}
		if a.ValueExpression == "" {
			errs = append(errs, field.Required(fld.Child("valueExpression"), "valueExpression is not specified"))
		}
	}
	return errs
}

// validateBindingCommon checks what both kinds of binding have: a name, the policy's name, the
// paramRef and the matchResources.
func validateBindingCommon(name, policyName string, paramRef *admissionregistrationv1.ParamRef, match *admissionregistrationv1.MatchResources) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), ""))
	}
	spec := field.NewPath("spec")
	if policyName == "" {
		errs = append(errs, field.Required(spec.Child("policyName"), ""))
	}
	errs = append(errs, validateParamRef(paramRef, spec.Child("paramRef"))...)
	if match != nil {
		errs = append(errs, validateMatchResources(match, spec.Child("matchResources"), false)...)
	}
	return errs
}

func validateValidatingBinding(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) field.ErrorList {
	errs := validateBindingCommon(b.Name, b.Spec.PolicyName, b.Spec.ParamRef, b.Spec.MatchResources)
	spec := field.NewPath("spec")
	actions := spec.Child("validationActions")
	if len(b.Spec.ValidationActions) == 0 {
		errs = append(errs, field.Required(actions, ""))
	}
	seen := sets.New[admissionregistrationv1.ValidationAction]()
	for i, a := range b.Spec.ValidationActions {
		switch a {
		case admissionregistrationv1.Deny, admissionregistrationv1.Warn, admissionregistrationv1.Audit:
		default:
			errs = append(errs, field.NotSupported(actions.Index(i), a, []string{"Audit", "Deny", "Warn"}))
		}
		if seen.Has(a) {
			errs = append(errs, field.Duplicate(actions.Index(i), a))
		}
		seen.Insert(a)
	}
	if seen.Has(admissionregistrationv1.Deny) && seen.Has(admissionregistrationv1.Warn) {
		errs = append(errs, field.Invalid(actions, b.Spec.ValidationActions, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	return errs
}

func fieldErr(errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("[%s]", strings.Join(msgs, ", "))
}
