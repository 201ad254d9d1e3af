package gatekeeper

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/verdict-dev/verdict/policies"
)

// NamespaceGetter finds the Namespace object of a request, for namespaceSelector. It returns nil and
// no error for a namespace it does not know (gator knows only the Namespaces of the inventory);
// policies.Store knows every namespace.
type NamespaceGetter interface {
	Namespace(name string) (*corev1.Namespace, error)
}

// gkRequest is a request as Gatekeeper sees it: on DELETE the old object is also the object, as
// Gatekeeper's webhook and gator both set it.
func gkRequest(req *policies.Request) *policies.Request {
	if req.Operation == policies.Delete && req.Object == nil && req.OldObject != nil {
		r := *req
		r.Object = req.OldObject
		return &r
	}
	return req
}

// reviewMap renders the request as Gatekeeper's input.review: the admission.k8s.io/v1
// AdmissionRequest as it marshals to JSON (omitting what it omits), plus _unstable.namespace when
// the namespace is known.
func reviewMap(req *policies.Request, ns *corev1.Namespace) map[string]any {
	m := map[string]any{
		"uid":       req.UID,
		"kind":      map[string]any{"group": req.Kind.Group, "version": req.Kind.Version, "kind": req.Kind.Kind},
		"resource":  map[string]any{"group": req.Resource.Group, "version": req.Resource.Version, "resource": req.Resource.Resource},
		"operation": string(req.Operation),
		"userInfo":  userInfo(req),
		"object":    objectOrNil(req.Object),
		"oldObject": objectOrNil(req.OldObject),
		"options":   objectOrNil(req.Options),
	}
	if req.SubResource != "" {
		m["subResource"] = req.SubResource
		m["requestSubResource"] = req.SubResource
	}
	if k := req.RequestKind; k != nil {
		m["requestKind"] = map[string]any{"group": k.Group, "version": k.Version, "kind": k.Kind}
	}
	if r := req.RequestResource; r != nil {
		m["requestResource"] = map[string]any{"group": r.Group, "version": r.Version, "resource": r.Resource}
	}
	if req.Name != "" {
		m["name"] = req.Name
	}
	if req.Namespace != "" {
		m["namespace"] = req.Namespace
	}
	if req.DryRun {
		m["dryRun"] = true
	}
	unstable := map[string]any{}
	if ns != nil {
		if u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ns); err == nil {
			unstable["namespace"] = u
		}
	}
	m["_unstable"] = unstable
	return m
}

func objectOrNil(u *unstructured.Unstructured) any {
	if u == nil {
		return nil
	}
	return u.Object
}

func userInfo(req *policies.Request) map[string]any { return req.UserInfoMap() }
