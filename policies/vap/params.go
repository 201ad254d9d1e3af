package vap

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// paramSource gives the API server's param collection the params of one kind from the store, in the
// shape of the informer kube-apiserver would use.
type paramSource struct {
	informer informers.GenericInformer
	scope    meta.RESTScope
}

// paramsFor returns the param source of a paramKind, or nil when the kind is unknown to the API
// server (neither built in nor defined by a CRD in the inputs), which kube-apiserver reports as
// "paramKind kind ... not known" under the policy's failurePolicy.
func paramsFor(gvk schema.GroupVersionKind, resources *manifest.Resources, store *policies.Store) *paramSource {
	res, ok := resources.Lookup(gvk)
	if !ok {
		return nil
	}
	scope := meta.RESTScopeRoot
	if res.Namespaced {
		scope = meta.RESTScopeNamespace
	}
	return &paramSource{
		informer: syncedInformer{lister: store.Lister(gvk, res.GVR.GroupResource())},
		scope:    scope,
	}
}

// syncedInformer is a GenericInformer over a fixed store: it has always synced. Only HasSynced of its
// informer is ever called by generic.CollectParams.
type syncedInformer struct {
	lister cache.GenericLister
}

func (s syncedInformer) Informer() cache.SharedIndexInformer { return alwaysSynced{} }
func (s syncedInformer) Lister() cache.GenericLister         { return s.lister }

type alwaysSynced struct{ cache.SharedIndexInformer }

func (alwaysSynced) HasSynced() bool { return true }
