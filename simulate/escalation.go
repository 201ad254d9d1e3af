package simulate

import (
	"context"
	"errors"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	kapihelper "k8s.io/kubernetes/pkg/apis/core/helper"
	"k8s.io/kubernetes/pkg/apis/rbac"
	rbacv1helpers "k8s.io/kubernetes/pkg/apis/rbac/v1"
	rbacregistry "k8s.io/kubernetes/pkg/registry/rbac"
	rbacregistryvalidation "k8s.io/kubernetes/pkg/registry/rbac/validation"
)

// fullAuthority is what the ClusterRole storage requires of whoever sets an aggregationRule: * on
// *.* and on every non-resource URL (pkg/registry/rbac/clusterrole/policybased).
var fullAuthority = []rbac.PolicyRule{
	rbac.NewRule("*").Groups("*").Resources("*").RuleOrDie(),
	rbac.NewRule("*").URLs("*").RuleOrDie(),
}

// escalation is the check of kube-apiserver's RBAC storage (pkg/registry/rbac/*/policybased) on the
// create or update (old, the object before it) of a Role, ClusterRole, RoleBinding or
// ClusterRoleBinding, with the registry's own helpers: a member of system:masters may; an update
// that changes only what the garbage collector reads (and the managed fields) may; a role's author
// must hold every rule it grants, or may escalate it; a binding's author may bind its role, or must
// hold every rule of the role. ctx holds the user, the namespace and the request info, as the API
// server's. Other objects pass.
func (w *world) escalation(ctx context.Context, obj, old runtime.Object, namespace string) error {
	if rbacregistry.EscalationAllowed(ctx) {
		return nil
	}
	if old != nil && rbacregistry.IsOnlyMutatingGCFields(obj, old, kapihelper.Semantic) {
		return nil
	}
	authz := w.authorizer()
	resolver := w.ruleResolver(requestResource(ctx))
	switch o := obj.(type) {
	case *rbac.Role:
		if rbacregistry.RoleEscalationAuthorized(ctx, authz) {
			return nil
		}
		if err := rbacregistryvalidation.ConfirmNoEscalationInternal(ctx, resolver, o.Rules); err != nil {
			return apierrors.NewForbidden(rbac.Resource("roles"), o.Name, err)
		}
	case *rbac.ClusterRole:
		if rbacregistry.RoleEscalationAuthorized(ctx, authz) {
			return nil
		}
		if err := rbacregistryvalidation.ConfirmNoEscalationInternal(ctx, resolver, o.Rules); err != nil {
			return apierrors.NewForbidden(rbac.Resource("clusterroles"), o.Name, err)
		}
		if hasAggregationRule(o) || hasAggregationRule(old) {
			if err := rbacregistryvalidation.ConfirmNoEscalationInternal(ctx, resolver, fullAuthority); err != nil {
				return apierrors.NewForbidden(rbac.Resource("clusterroles"), o.Name, errors.New("must have cluster-admin privileges to use the aggregationRule"))
			}
		}
	case *rbac.RoleBinding:
		return w.bindingEscalation(ctx, resolver, o.RoleRef, namespace, rbac.Resource("rolebindings"), o.Name)
	case *rbac.ClusterRoleBinding:
		return w.bindingEscalation(ctx, resolver, o.RoleRef, "", rbac.Resource("clusterrolebindings"), o.Name)
	}
	return nil
}

// hasAggregationRule is the clusterrole storage's: a ClusterRole that aggregates others.
func hasAggregationRule(obj runtime.Object) bool {
	o, ok := obj.(*rbac.ClusterRole)
	return ok && o.AggregationRule != nil && len(o.AggregationRule.ClusterRoleSelectors) > 0
}

// bindingEscalation is the binding storages' check: bind on the role, or every rule of the role
// held. A role that cannot be resolved is the resolver's error as it is (the storage returns it so).
func (w *world) bindingEscalation(ctx context.Context, resolver rbacregistryvalidation.AuthorizationRuleResolver, ref rbac.RoleRef, namespace string, resource schema.GroupResource, name string) error {
	if rbacregistry.BindingAuthorized(ctx, ref, namespace, w.authorizer()) {
		return nil
	}
	v1Ref := rbacv1.RoleRef{}
	if err := rbacv1helpers.Convert_rbac_RoleRef_To_v1_RoleRef(&ref, &v1Ref, nil); err != nil {
		return err
	}
	rules, err := resolver.GetRoleReferenceRules(ctx, v1Ref, namespace)
	if err != nil {
		return err
	}
	if err := rbacregistryvalidation.ConfirmNoEscalation(ctx, resolver, rules); err != nil {
		return apierrors.NewForbidden(resource, name, err)
	}
	return nil
}

// requestResource is the resource of the request being served, from its request info.
func requestResource(ctx context.Context) schema.GroupResource {
	info, _ := genericapirequest.RequestInfoFrom(ctx)
	if info == nil {
		return schema.GroupResource{}
	}
	return schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}
}
