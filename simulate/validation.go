package simulate

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/apis/admissionregistration"
	"k8s.io/kubernetes/pkg/capabilities"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingadmissionpolicy"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingadmissionpolicybinding"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/resolver"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/validatingadmissionpolicy"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/validatingadmissionpolicybinding"
	"k8s.io/kubernetes/pkg/registry/apps/daemonset"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/apps/replicaset"
	"k8s.io/kubernetes/pkg/registry/apps/statefulset"
	"k8s.io/kubernetes/pkg/registry/autoscaling/horizontalpodautoscaler"
	"k8s.io/kubernetes/pkg/registry/batch/cronjob"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/coordination/lease"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/limitrange"
	"k8s.io/kubernetes/pkg/registry/core/namespace"
	"k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim"
	"k8s.io/kubernetes/pkg/registry/core/pod"
	"k8s.io/kubernetes/pkg/registry/core/resourcequota"
	"k8s.io/kubernetes/pkg/registry/core/secret"
	"k8s.io/kubernetes/pkg/registry/core/serviceaccount"
	"k8s.io/kubernetes/pkg/registry/networking/ingress"
	"k8s.io/kubernetes/pkg/registry/networking/ingressclass"
	"k8s.io/kubernetes/pkg/registry/networking/networkpolicy"
	"k8s.io/kubernetes/pkg/registry/node/runtimeclass"
	"k8s.io/kubernetes/pkg/registry/policy/poddisruptionbudget"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrole"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrolebinding"
	"k8s.io/kubernetes/pkg/registry/rbac/role"
	"k8s.io/kubernetes/pkg/registry/rbac/rolebinding"
	"k8s.io/kubernetes/pkg/registry/scheduling/priorityclass"
	"k8s.io/kubernetes/pkg/registry/storage/storageclass"
)

// strategy is a kind's registry strategy, for create and update.
type strategy interface {
	rest.RESTCreateStrategy
	rest.RESTUpdateStrategy
}

// strategies are the registry strategies of the kinds whose object validation simulate runs: the
// API server's own (k8s.io/kubernetes/pkg/registry), which validate through
// k8s.io/kubernetes/pkg/apis/*/validation. Custom resources are validated by their CRD's
// (customKind); objects of other kinds are not validated (the README says so).
var strategies = map[schema.GroupKind]strategy{
	{Group: "", Kind: "Pod"}:                                         pod.Strategy,
	{Group: "", Kind: "ConfigMap"}:                                   configmap.Strategy,
	{Group: "", Kind: "Secret"}:                                      secret.Strategy,
	{Group: "", Kind: "Namespace"}:                                   namespace.Strategy,
	{Group: "", Kind: "ServiceAccount"}:                              serviceaccount.Strategy,
	{Group: "", Kind: "ResourceQuota"}:                               resourcequota.Strategy,
	{Group: "", Kind: "LimitRange"}:                                  limitrange.Strategy,
	{Group: "apps", Kind: "Deployment"}:                              deployment.Strategy,
	{Group: "apps", Kind: "StatefulSet"}:                             statefulset.Strategy,
	{Group: "apps", Kind: "DaemonSet"}:                               daemonset.Strategy,
	{Group: "apps", Kind: "ReplicaSet"}:                              replicaset.Strategy,
	{Group: "batch", Kind: "Job"}:                                    job.Strategy,
	{Group: "batch", Kind: "CronJob"}:                                cronjob.Strategy,
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:               role.Strategy,
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        rolebinding.Strategy,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        clusterrole.Strategy,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: clusterrolebinding.Strategy,
	{Group: "", Kind: "PersistentVolumeClaim"}:                       persistentvolumeclaim.Strategy,
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:              networkpolicy.Strategy,
	{Group: "networking.k8s.io", Kind: "Ingress"}:                    ingress.Strategy,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:               ingressclass.Strategy,
	{Group: "policy", Kind: "PodDisruptionBudget"}:                   poddisruptionbudget.Strategy,
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:          horizontalpodautoscaler.Strategy,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:              priorityclass.Strategy,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                  storageclass.Strategy,
	{Group: "coordination.k8s.io", Kind: "Lease"}:                    lease.Strategy,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                     runtimeclass.Strategy,
}

// Validated reports whether simulate runs the object validation of a kind.
func Validated(gk schema.GroupKind) bool {
	_, ok := strategies[gk]
	return ok || admissionPolicyKinds[gk.Kind] && gk.Group == admissionregistration.GroupName
}

// AllowPrivileged is the kube-apiserver's --allow-privileged that simulate runs with: true, as
// kubeadm, kind and the managed clusters start it (and envtest does), so that privileged containers
// are refused by Pod Security, not by object validation. It is process-wide in kube's code
// (pkg/capabilities), set once before the first simulation.
const AllowPrivileged = true

// validateObject is what the generic registry's store does before it writes: on create, the system
// fields (FillObjectMetaSystemFields) then rest.BeforeCreate (PrepareForCreate, Validate, the
// object meta's validation, warnings); on update, rest.BeforeUpdate. obj is the internal object,
// changed in place as the store changes it.
// A custom resource is validated by the strategy of its CRD (custom is nil for other kinds).
func (w *world) validateObject(ctx context.Context, a *attempt, custom *customKind, obj, old runtime.Object) error {
	capabilities.Setup(AllowPrivileged, 0)
	s, ok := strategies[a.gvk.GroupKind()]
	if custom != nil {
		s, ok = custom.strategy, true
	} else if !ok {
		s = w.admissionPolicyStrategy(a.gvk.GroupKind())
		ok = s != nil
	}
	if !ok {
		return nil
	}
	if old == nil {
		if m, err := meta.Accessor(obj); err == nil {
			rest.FillObjectMetaSystemFields(m)
		}
		return rest.BeforeCreate(s, ctx, obj)
	}
	return rest.BeforeUpdate(s, ctx, obj, old)
}

// admissionPolicyStrategy is the registry strategy of an admission policy kind, or nil for other
// kinds. Made for the world as it stands: the strategies authorize the params a policy or binding
// names with the API server's authorizer (the world's RBAC), resolving kinds by the world's
// resources and a binding's policy among the world's objects.
func (w *world) admissionPolicyStrategy(gk schema.GroupKind) strategy {
	if gk.Group != admissionregistration.GroupName {
		return nil
	}
	resolve := resolver.ResourceResolverFunc(func(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
		if r, ok := w.view.Resources.Lookup(gvk); ok {
			return r.GVR, nil
		}
		return schema.GroupVersionResource{}, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
	})
	switch gk.Kind {
	case "ValidatingAdmissionPolicy":
		return validatingadmissionpolicy.NewStrategy(w.authorizer(), resolve)
	case "ValidatingAdmissionPolicyBinding":
		return validatingadmissionpolicybinding.NewStrategy(w.authorizer(), policyGetter{w}, resolve)
	case "MutatingAdmissionPolicy":
		return mutatingadmissionpolicy.NewStrategy(w.authorizer(), resolve)
	case "MutatingAdmissionPolicyBinding":
		return mutatingadmissionpolicybinding.NewStrategy(w.authorizer(), policyGetter{w}, resolve)
	}
	return nil
}

// policyGetter finds the admission policies of the world, for their bindings' strategies.
type policyGetter struct{ w *world }

func (g policyGetter) GetValidatingAdmissionPolicy(_ context.Context, name string) (*admissionregistration.ValidatingAdmissionPolicy, error) {
	return worldPolicy[admissionregistration.ValidatingAdmissionPolicy](g.w, "validatingadmissionpolicies", name)
}

func (g policyGetter) GetMutatingAdmissionPolicy(_ context.Context, name string) (*admissionregistration.MutatingAdmissionPolicy, error) {
	return worldPolicy[admissionregistration.MutatingAdmissionPolicy](g.w, "mutatingadmissionpolicies", name)
}

// worldPolicy is the internal object of the world's admission policy of a resource, or NotFound.
func worldPolicy[T any](w *world, resource, name string) (*T, error) {
	notFound := apierrors.NewNotFound(admissionregistration.Resource(resource), name)
	obj := w.objects[objectKey{Group: admissionregistration.GroupName, Resource: resource, Name: name}]
	if obj == nil {
		return nil, notFound
	}
	internal, _, err := toInternal(obj)
	if err != nil {
		return nil, err
	}
	if p, ok := any(internal).(*T); ok {
		return p, nil
	}
	return nil, notFound
}
