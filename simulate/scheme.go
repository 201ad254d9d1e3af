package simulate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	// The API groups a default kube-apiserver serves, installed into legacyscheme as the API server
	// installs them: their internal types, conversions and defaults.
	_ "k8s.io/kubernetes/pkg/apis/admissionregistration/install"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/certificates/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/discovery/install"
	_ "k8s.io/kubernetes/pkg/apis/events/install"
	_ "k8s.io/kubernetes/pkg/apis/flowcontrol/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/node/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	_ "k8s.io/kubernetes/pkg/apis/resource/install"
	_ "k8s.io/kubernetes/pkg/apis/scheduling/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"

	"github.com/verdict-dev/verdict/internal/typedconv"
)

// scheme is the API server's scheme of built-in types.
var scheme = legacyscheme.Scheme

// toInternal converts an object of a built-in kind into its internal type, the form in which
// kube-apiserver hands objects to its admission plugins and registry. ok is false for other kinds
// (custom resources, unknown kinds), which the API server handles as unstructured.
func toInternal(obj *unstructured.Unstructured) (out runtime.Object, ok bool, err error) {
	gvk := obj.GroupVersionKind()
	if !scheme.Recognizes(gvk) {
		return obj, false, nil
	}
	typed, err := scheme.New(gvk)
	if err != nil {
		return nil, false, err
	}
	if err := typedconv.FromUnstructured(obj.Object, typed); err != nil {
		return nil, false, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	internal, err := scheme.ConvertToVersion(typed, schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return nil, false, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	return internal, true, nil
}

// fromInternal converts an internal object back into the version gvk, as unstructured.
func fromInternal(obj runtime.Object, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	versioned, err := scheme.ConvertToVersion(obj, gvk.GroupVersion())
	if err != nil {
		return nil, err
	}
	content, err := typedconv.ToUnstructured(versioned)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
