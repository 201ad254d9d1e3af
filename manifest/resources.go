package manifest

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is what the API server knows of a kind: its resource name and scope.
type Resource struct {
	GVR        schema.GroupVersionResource
	Namespaced bool
}

// Resources maps kinds to resources: the built-in kinds of the current Kubernetes release and the
// kinds of the CustomResourceDefinitions added to it.
type Resources struct {
	kinds map[schema.GroupVersionKind]Resource
}

// BuiltinResources returns the resources of the kinds that a default kube-apiserver of the current
// release serves (BuiltinAPIResources), to which CRDs may be added. Callers keep the result.
func BuiltinResources() *Resources {
	builtin := BuiltinAPIResources()
	r := &Resources{kinds: make(map[schema.GroupVersionKind]Resource, len(builtin)+16)}
	for _, a := range builtin {
		gvk := schema.GroupVersionKind{Group: a.Group, Version: a.Version, Kind: a.Kind}
		r.kinds[gvk] = Resource{
			GVR:        schema.GroupVersionResource{Group: a.Group, Version: a.Version, Resource: a.Resource},
			Namespaced: a.Namespaced,
		}
	}
	return r
}

// Lookup returns the resource of a kind.
func (r *Resources) Lookup(gvk schema.GroupVersionKind) (Resource, bool) {
	res, ok := r.kinds[gvk]
	return res, ok
}

// IsCRD reports whether obj is a CustomResourceDefinition.
func IsCRD(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// AddCRD adds the kinds a CustomResourceDefinition serves.
func (r *Resources) AddCRD(obj *unstructured.Unstructured) error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, crd); err != nil {
		return fmt.Errorf("CustomResourceDefinition %q: %w", obj.GetName(), err)
	}
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" || crd.Spec.Names.Plural == "" {
		return fmt.Errorf("CustomResourceDefinition %q: spec.group, spec.names.kind and spec.names.plural are required", obj.GetName())
	}
	namespaced := crd.Spec.Scope != apiextensionsv1.ClusterScoped
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
		r.kinds[gvk] = Resource{
			GVR:        schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: crd.Spec.Names.Plural},
			Namespaced: namespaced,
		}
	}
	return nil
}

// NoKindMatchError is the error for a kind the API server would not know, worded as kubectl words it.
type NoKindMatchError struct{ GVK schema.GroupVersionKind }

func (e *NoKindMatchError) Error() string {
	return fmt.Sprintf("no matches for kind %q in version %q; ensure CRDs are installed first (add the CustomResourceDefinition to the inputs)",
		e.GVK.Kind, e.GVK.GroupVersion().String())
}
