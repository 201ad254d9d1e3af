package simulate

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	schedulinghelpers "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	rbacregistryvalidation "k8s.io/kubernetes/pkg/registry/rbac/validation"

	"github.com/verdict-dev/verdict/internal/typedconv"
	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/rbacsim"
)

// objectKey names an object in the simulated cluster.
type objectKey struct {
	Group, Resource, Namespace, Name string
}

func keyOf(gvr schema.GroupVersionResource, namespace, name string) objectKey {
	return objectKey{Group: gvr.Group, Resource: gvr.Resource, Namespace: namespace, Name: name}
}

// builtinNamespaces are the namespaces of every new cluster, which kube-apiserver creates itself
// (default, kube-system, kube-public) or whose first node lease creates (kube-node-lease).
var builtinNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// world is the simulated cluster during a run: its objects, its RBAC objects and the model made of
// them, and the fake cluster the admission plugins read.
type world struct {
	user     user.Info
	view     *manifest.View
	policies *bundle.Bundle
	server   bool // server-side apply

	objects map[objectKey]*unstructured.Unstructured
	rbac    *rbacsim.Objects
	model   *rbacsim.Model // nil when rbac changed since it was built
	authz   authorizer.Authorizer
	cluster *cluster
	// modelAuthz is the API server's authorizer over modelAuthzOf, the model it was made of.
	modelAuthz   authorizer.Authorizer
	modelAuthzOf *rbacsim.Model
	revision     atomic.Int64 // the last resource version given
	custom       customKinds
	fields       fieldManagers
}

func newWorld(ctx context.Context, opts Options) (*world, error) {
	resources := opts.Resources
	if resources == nil {
		resources = manifest.BuiltinResources()
	}
	w := &world{
		user: opts.User, view: &manifest.View{Resources: resources}, policies: opts.Policies, server: opts.ServerSide,
		objects: map[objectKey]*unstructured.Unstructured{}, rbac: &rbacsim.Objects{Sources: map[any]rbacsim.Source{}},
	}
	if opts.RBAC != nil {
		w.rbac.Append(opts.RBAC)
	}
	var initial []*unstructured.Unstructured
	for _, ns := range builtinNamespaces {
		initial = append(initial, namespaceObject(ns))
	}
	for _, pc := range schedulinghelpers.SystemPriorityClasses() {
		u, err := toUnstructured(pc, schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"))
		if err != nil {
			return nil, err
		}
		initial = append(initial, u)
	}
	for _, d := range opts.Existing {
		p, err := w.view.Present(d.Object)
		if err != nil {
			return nil, d.Wrap(fmt.Errorf("--existing: %w", err))
		}
		initial = append(initial, p.Object)
	}
	for _, obj := range initial {
		res, err := w.resource(obj)
		if err != nil {
			return nil, err
		}
		w.stamp(obj)
		w.objects[keyOf(res, obj.GetNamespace(), obj.GetName())] = obj
		if isNamespace(obj) {
			sa := defaultServiceAccount(obj.GetName())
			w.stamp(sa)
			w.objects[keyOf(corev1.SchemeGroupVersion.WithResource("serviceaccounts"), sa.GetNamespace(), sa.GetName())] = sa
		}
	}
	typedByKey := map[objectKey]runtime.Object{}
	for k, obj := range w.objects {
		if t, ok, err := toTyped(obj); err != nil {
			return nil, err
		} else if ok {
			typedByKey[k] = t
		}
	}
	if err := quotaStatuses(w.objects, typedByKey); err != nil {
		return nil, fmt.Errorf("--existing: the status of a ResourceQuota: %w", err)
	}
	typed := make([]runtime.Object, 0, len(typedByKey))
	for _, t := range typedByKey {
		typed = append(typed, t)
	}
	if err := w.addRBAC(initial...); err != nil {
		return nil, err
	}
	c, err := newCluster(ctx, w.authorizer(), typed, func() string { return strconv.FormatInt(w.revision.Add(1), 10) })
	if err != nil {
		return nil, err
	}
	w.cluster = c
	return w, nil
}

func (w *world) close() { w.cluster.close() }

// resource is the resource of an object's kind, from the resource table.
func (w *world) resource(obj *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	p, err := w.view.Present(obj)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return p.Resource, nil
}

// get returns an object of the simulated cluster, or nil.
func (w *world) get(gvr schema.GroupVersionResource, namespace, name string) *unstructured.Unstructured {
	return w.withQuotaStatus(w.objects[keyOf(gvr, namespace, name)])
}

// store keeps an accepted object: in the world, in the plugins' fake cluster, and in the RBAC model
// when it is an RBAC object. A new Namespace gets its default ServiceAccount, as the
// controller-manager's service account controller gives it one.
func (w *world) store(obj *unstructured.Unstructured, gvr schema.GroupVersionResource) error {
	w.stamp(obj)
	w.objects[keyOf(gvr, obj.GetNamespace(), obj.GetName())] = obj
	if err := w.cluster.add(obj, gvr); err != nil {
		return err
	}
	if isNamespace(obj) {
		sa := defaultServiceAccount(obj.GetName())
		saGVR := corev1.SchemeGroupVersion.WithResource("serviceaccounts")
		if w.get(saGVR, sa.GetNamespace(), sa.GetName()) == nil {
			w.stamp(sa)
			w.objects[keyOf(saGVR, sa.GetNamespace(), sa.GetName())] = sa
			if err := w.cluster.add(sa, saGVR); err != nil {
				return err
			}
		}
	}
	return w.addRBAC(obj)
}

// addRBAC adds the RBAC objects among objs to the model, which is rebuilt when next needed.
func (w *world) addRBAC(objs ...*unstructured.Unstructured) error {
	var docs []manifest.Document
	for _, o := range objs {
		if o.GroupVersionKind().Group == "rbac.authorization.k8s.io" {
			docs = append(docs, manifest.Document{File: "(cluster)", Object: o})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	more, errs := rbacsim.FromDocuments(docs)
	if len(errs) > 0 {
		return errs[0]
	}
	w.rbac.Append(more)
	w.model, w.authz = nil, nil
	return nil
}

func (w *world) rbacModel() *rbacsim.Model {
	if w.model == nil {
		w.model = rbacsim.NewModel(w.rbac)
	}
	return w.model
}

// authorizer is kube-apiserver's authorizer over the RBAC objects of the cluster as it stands.
func (w *world) authorizer() authorizer.Authorizer {
	if w.authz == nil {
		w.authz = lazyAuthorizer{w}
	}
	return w.authz
}

// ruleResolver is the RBAC storage's rule resolver over the cluster as it stands, serving a
// request for resource.
func (w *world) ruleResolver(resource schema.GroupResource) rbacregistryvalidation.AuthorizationRuleResolver {
	return w.rbacModel().StorageRuleResolver(resource)
}

// lazyAuthorizer decides with the model of the moment, so that plugins initialized once (and the
// escalation checks) see the RBAC objects created since.
type lazyAuthorizer struct{ w *world }

func (a lazyAuthorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	return a.w.current().Authorize(ctx, attrs)
}

func (a lazyAuthorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return a.w.current().ConditionsAwareAuthorize(ctx, attrs)
}

func (a lazyAuthorizer) EvaluateConditions(ctx context.Context, d authorizer.ConditionsAwareDecision, data authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return a.w.current().EvaluateConditions(ctx, d, data)
}

func (w *world) current() authorizer.Authorizer {
	m := w.rbacModel()
	if w.modelAuthz == nil || w.modelAuthzOf != m {
		w.modelAuthz, w.modelAuthzOf = m.APIServerAuthorizer(), m
	}
	return w.modelAuthz
}

// stamp gives an object of the cluster what the API server's storage gives it: a resource version
// (a new one for every write), and a uid and creation time when it has none.
func (w *world) stamp(obj *unstructured.Unstructured) {
	revision := w.revision.Add(1)
	obj.SetResourceVersion(strconv.FormatInt(revision, 10))
	if obj.GetUID() == "" {
		obj.SetUID(types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", revision)))
	}
	if created := obj.GetCreationTimestamp(); created.IsZero() {
		obj.SetCreationTimestamp(metav1.Now())
	}
}

func isNamespace(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Namespace"
}

func namespaceObject(name string) *unstructured.Unstructured {
	ns := &corev1.Namespace{}
	ns.Name = name
	ns.Labels = map[string]string{corev1.LabelMetadataName: name}
	ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
	ns.Status.Phase = corev1.NamespaceActive
	u, _ := toUnstructured(ns, corev1.SchemeGroupVersion.WithKind("Namespace"))
	return u
}

func defaultServiceAccount(namespace string) *unstructured.Unstructured {
	sa := &corev1.ServiceAccount{}
	sa.Namespace, sa.Name = namespace, "default"
	u, _ := toUnstructured(sa, corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	return u
}

// toUnstructured converts a typed object of the given kind.
func toUnstructured(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	content, err := typedconv.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
