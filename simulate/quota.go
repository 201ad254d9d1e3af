package simulate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	quotainstall "k8s.io/kubernetes/pkg/quota/v1/install"

	"github.com/verdict-dev/verdict/internal/typedconv"
)

var quotaGVR = corev1.SchemeGroupVersion.WithResource("resourcequotas")

// quotaStatuses gives each ResourceQuota among objects that has no status the status that
// kube-controller-manager's resource quota controller would write before the apply
// (pkg/controller/resourcequota, syncResourceQuota): its hard limits, and their usage by the objects
// of the cluster as its evaluators count it (quotainstall.NewQuotaConfigurationForControllers, plus
// an object count evaluator for each count/<resource>, as its monitors add them). A quota that
// already has a status (one read from a cluster) keeps it: the ResourceQuota admission plugin then
// counts every object the apply creates, as it does in the API server.
func quotaStatuses(objects map[objectKey]*unstructured.Unstructured, typed map[objectKey]runtime.Object) error {
	var pending []*corev1.ResourceQuota
	for k, obj := range typed {
		if q, ok := obj.(*corev1.ResourceQuota); ok && k.Resource == quotaGVR.Resource && k.Group == "" && q.Status.Hard == nil {
			pending = append(pending, q)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	indexers := map[schema.GroupResource]cache.Indexer{}
	for k, obj := range typed {
		gr := schema.GroupResource{Group: k.Group, Resource: k.Resource}
		if indexers[gr] == nil {
			indexers[gr] = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		}
		if err := indexers[gr].Add(obj); err != nil {
			return err
		}
	}
	listers := func(gvr schema.GroupVersionResource) (cache.GenericLister, error) {
		i := indexers[gvr.GroupResource()]
		if i == nil {
			i = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		}
		return cache.NewGenericLister(i, gvr.GroupResource()), nil
	}
	// The informers are the resource claim evaluator's (for DRA's extended resources), which
	// counts no objects of an apply: given, never started.
	config, err := quotainstall.NewQuotaConfigurationForControllers(listers, informers.NewSharedInformerFactory(fake.NewClientset(), 0))
	if err != nil {
		return err
	}
	registry := generic.NewRegistry(config.Evaluators())
	for _, q := range pending {
		for name := range q.Spec.Hard {
			gr, ok := strings.CutPrefix(string(name), "count/")
			if !ok {
				continue
			}
			res := schema.ParseGroupResource(gr)
			if registry.Get(res) == nil {
				registry.Add(generic.NewObjectCountEvaluator(res, generic.ListResourceUsingListerFunc(listers, res.WithVersion("")), ""))
			}
		}
	}
	for _, q := range pending {
		hard := quota.Add(corev1.ResourceList{}, q.Spec.Hard)
		used, err := quota.CalculateUsage(q.Namespace, q.Spec.Scopes, hard, registry, q.Spec.ScopeSelector)
		if err != nil {
			return err
		}
		q.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: quota.Mask(used, quota.ResourceNames(hard))}
		content, err := typedconv.ToUnstructured(&q.Status)
		if err != nil {
			return err
		}
		u := objects[keyOf(quotaGVR, q.Namespace, q.Name)]
		if err := unstructured.SetNestedField(u.Object, content, "status"); err != nil {
			return err
		}
	}
	return nil
}

// withQuotaStatus gives a ResourceQuota of the world the status of the plugins' cluster, where the
// ResourceQuota admission plugin counts what the apply creates (as the API server writes the
// quota's status on each admitted request).
func (w *world) withQuotaStatus(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil || obj.GroupVersionKind().GroupKind() != (schema.GroupKind{Kind: "ResourceQuota"}) {
		return obj
	}
	current, err := w.cluster.client.Tracker().Get(quotaGVR, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return obj
	}
	q, ok := current.(*corev1.ResourceQuota)
	if !ok {
		return obj
	}
	content, err := typedconv.ToUnstructured(&q.Status)
	if err != nil {
		return obj
	}
	out := obj.DeepCopy()
	if err := unstructured.SetNestedField(out.Object, content, "status"); err != nil {
		return obj
	}
	return out
}
