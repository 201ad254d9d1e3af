package rbacsim

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/union"
	rbacregistryvalidation "k8s.io/kubernetes/pkg/registry/rbac/validation"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// APIServerAuthorizer is the authorizer of a kube-apiserver started with --authorization-mode=RBAC,
// over the model: the union (k8s.io/apiserver/pkg/authorization/union) of the system:masters
// privileged-group authorizer and kube's own RBAC authorizer (plugin/pkg/auth/authorizer/rbac),
// which reads the model through listers as the API server reads its informers, in the order
// pkg/kubeapiserver/authorizer chains them. Its decisions are Authorize's; its reasons are the API
// server's own, so that a denial can be worded as the API server words it.
func (m *Model) APIServerAuthorizer() authorizer.Authorizer {
	l := modelListers{m}
	a, err := union.New(
		union.NamedAuthorizer{AuthorizerName: "kubernetes.io/system-privileged-group", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		union.NamedAuthorizer{AuthorizerName: "rbac", Authorizer: rbac.New(l, l, l, l)},
	)
	if err != nil {
		panic(err) // two distinct, non-empty names: cannot fail
	}
	return a
}

// StorageRuleResolver is the rule resolver of the API server's RBAC storage, which checks that a
// Role or binding grants nothing its author lacks (the policybased storages of
// pkg/registry/rbac). It reads roles from storage, whose NotFound error names the resource of the
// request being served (the generic registry's qualifiedResourceFromContext), not the resource
// read: "rolebindings.rbac.authorization.k8s.io \"view\" not found" while a RoleBinding is created.
func (m *Model) StorageRuleResolver(request schema.GroupResource) *rbacregistryvalidation.DefaultRuleResolver {
	l := storageListers{modelListers{m}, request}
	return rbacregistryvalidation.NewDefaultRuleResolver(l, l, l, l)
}

// storageListers are modelListers with the storage's NotFound errors.
type storageListers struct {
	modelListers
	request schema.GroupResource
}

func (l storageListers) GetRole(ctx context.Context, namespace, name string) (*rbacv1.Role, error) {
	r, err := l.modelListers.GetRole(ctx, namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewNotFound(l.request, name)
	}
	return r, err
}

func (l storageListers) GetClusterRole(ctx context.Context, name string) (*rbacv1.ClusterRole, error) {
	r, err := l.modelListers.GetClusterRole(ctx, name)
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewNotFound(l.request, name)
	}
	return r, err
}
