package bundle

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// DefaultNamespace is where a namespaced object without a namespace goes, as with kubectl.
const DefaultNamespace = "default"

// RequestFor presents a manifest to the policies as the API server would after `kubectl apply`: a
// built-in object is decoded through its type (manifest.Normalize), a namespaced object without
// metadata.namespace is in namespace (or "default"), a cluster-scoped one has none, and a Namespace
// carries the kubernetes.io/metadata.name label. On DELETE the manifest is
// the old object; on UPDATE it is both old and new (nothing changed). The object is copied only
// where it must change.
func RequestFor(resources *manifest.Resources, obj *unstructured.Unstructured, op policies.Operation, namespace string) (*policies.Request, error) {
	gvk := obj.GroupVersionKind()
	res, ok := resources.Lookup(gvk)
	if !ok {
		return nil, &manifest.NoKindMatchError{GVK: gvk}
	}
	obj, err := manifest.Normalize(obj)
	if err != nil {
		return nil, err
	}
	ns := ""
	if res.Namespaced {
		ns = obj.GetNamespace()
		switch {
		case ns == "" && namespace != "":
			ns = namespace
		case ns == "":
			ns = DefaultNamespace
		case namespace != "" && ns != namespace:
			return nil, fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation",
				ns, namespace, ns)
		}
		if obj.GetNamespace() != ns {
			obj = obj.DeepCopy()
			obj.SetNamespace(ns)
		}
	}
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		obj = policies.WithNamespaceNameLabel(obj)
		// The API server takes a request's namespace from its path: a Namespace is created at
		// /api/v1/namespaces (no namespace) but updated and deleted at /api/v1/namespaces/NAME, so
		// those requests carry its name as their namespace.
		if op != policies.Create {
			ns = obj.GetName()
		}
	}
	req := &policies.Request{
		Kind:      gvk,
		Resource:  res.GVR,
		Name:      obj.GetName(),
		Namespace: ns,
		Operation: op,
	}
	switch op {
	case policies.Delete:
		req.OldObject = obj
		req.Options = options("DeleteOptions")
	case policies.Update:
		req.Object, req.OldObject = obj, obj
		req.Options = options("UpdateOptions")
	default:
		req.Object = obj
		req.Options = options("CreateOptions")
	}
	return req, nil
}

func options(kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "meta.k8s.io", Version: "v1", Kind: kind})
	return u
}
