package rbacsim

import (
	"context"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	rbacregistryvalidation "k8s.io/kubernetes/pkg/registry/rbac/validation"
)

// modelListers serve the model to kube-apiserver's own rule resolver (DefaultRuleResolver of
// k8s.io/kubernetes/pkg/registry/rbac/validation) through the four interfaces it reads, as the API
// server's informer listers serve it the cluster's objects (plugin/pkg/auth/authorizer/rbac RoleGetter,
// RoleBindingLister, ClusterRoleGetter, ClusterRoleBindingLister). Roles are those of the model, so
// ClusterRoles carry their rules after aggregation, as the aggregation controller leaves them.
//
// The API server's listers return bindings in the order of a Go map, that is in no order; these
// return them by name, as a LIST of the API server (and kubectl get) does.
type modelListers struct{ m *Model }

var (
	_ rbacregistryvalidation.RoleGetter               = modelListers{}
	_ rbacregistryvalidation.RoleBindingLister        = modelListers{}
	_ rbacregistryvalidation.ClusterRoleGetter        = modelListers{}
	_ rbacregistryvalidation.ClusterRoleBindingLister = modelListers{}
)

// GetRole returns the Role, or the NotFound error of the API server's lister.
func (l modelListers) GetRole(_ context.Context, namespace, name string) (*rbacv1.Role, error) {
	r := l.m.roles[namespace+"/"+name]
	if r == nil {
		return nil, apierrors.NewNotFound(rbacv1.Resource("role"), name)
	}
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: r.Name, Labels: r.Labels}, Rules: r.Rules}, nil
}

// GetClusterRole returns the ClusterRole with its aggregated rules, or the lister's NotFound error.
func (l modelListers) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	r := l.m.clusterRoles[name]
	if r == nil {
		return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), name)
	}
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: r.Name, Labels: r.Labels}, Rules: r.Rules, AggregationRule: r.Aggregation}, nil
}

// ListRoleBindings returns the RoleBindings of a namespace, by name.
func (l modelListers) ListRoleBindings(_ context.Context, namespace string) ([]*rbacv1.RoleBinding, error) {
	idx := l.m.namespaced[namespace]
	if idx == nil {
		return nil, nil
	}
	out := make([]*rbacv1.RoleBinding, 0, len(idx.all))
	for _, b := range byName(idx.all) {
		out = append(out, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: b.Namespace, Name: b.Name},
			Subjects: b.Subjects, RoleRef: b.RoleRef})
	}
	return out, nil
}

// ListClusterRoleBindings returns every ClusterRoleBinding, by name.
func (l modelListers) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	out := make([]*rbacv1.ClusterRoleBinding, 0, len(l.m.cluster.all))
	for _, b := range byName(l.m.cluster.all) {
		out = append(out, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.Name},
			Subjects: b.Subjects, RoleRef: b.RoleRef})
	}
	return out, nil
}

func byName(bindings []*Binding) []*Binding {
	sorted := append([]*Binding(nil), bindings...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	return sorted
}

// RuleResolver is kube-apiserver's RBAC rule resolver (DefaultRuleResolver) over the model: what the
// API server's RBAC authorizer, its rules reviews and its escalation checks resolve rules with.
func (m *Model) RuleResolver() *rbacregistryvalidation.DefaultRuleResolver {
	l := modelListers{m}
	return rbacregistryvalidation.NewDefaultRuleResolver(l, l, l, l)
}

// RulesFor returns the rules that apply to the user in the namespace, as the API server's RBAC rule
// resolver returns them (DefaultRuleResolver.RulesFor: the ClusterRoleBindings' roles, then, when
// namespace is not empty, those of the namespace's RoleBindings, each binding's role in full), and
// the resolution errors (missing roles) that make it incomplete. Like the API server, it lists nothing
// for system:masters beyond what bindings grant: that group is an authorizer with no rule resolver.
func (m *Model) RulesFor(u user.Info, namespace string) ([]rbacv1.PolicyRule, []error) {
	rules, err := m.RuleResolver().RulesFor(context.Background(), u, namespace)
	return rules, flatten(err)
}
