package bundle

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// DefaultNamespace is where a namespaced object without a namespace goes, as with kubectl.
const DefaultNamespace = manifest.DefaultNamespace

// RequestFor presents a manifest to the policies as the API server would after `kubectl apply`
// (manifest.View): decoded through its type with defaults, a namespaced object without
// metadata.namespace in namespace (or "default"), a cluster-scoped one without, and a Namespace with
// the kubernetes.io/metadata.name label. On DELETE the manifest is the old object; on UPDATE it is
// both old and new (nothing changed).
func RequestFor(resources *manifest.Resources, obj *unstructured.Unstructured, op policies.Operation, namespace string) (*policies.Request, error) {
	req, _, err := Present(&manifest.View{Resources: resources, Namespace: namespace}, obj, op)
	return req, err
}

// Present makes the request of a manifest under a view of it, and returns the API server's
// warnings about it (a deprecated API version).
func Present(view *manifest.View, obj *unstructured.Unstructured, op policies.Operation) (*policies.Request, []string, error) {
	p, err := view.Present(obj)
	if err != nil {
		return nil, nil, err
	}
	obj, ns := p.Object, p.Namespace
	gvk := obj.GroupVersionKind()
	if gvk.Group == "" && gvk.Kind == "Namespace" && !view.AsWritten {
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
		Resource:  p.Resource,
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
	return req, p.Warnings, nil
}

func options(kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "meta.k8s.io", Version: "v1", Kind: kind})
	return u
}
