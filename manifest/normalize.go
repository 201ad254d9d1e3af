package manifest

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// Normalize returns a built-in object as the API server holds it after decoding a request: through
// its Go type, so that explicit nulls and empty values are dropped or filled as the typed object has
// them, with the API server's defaults filled in, and with unknown fields refused as the API server's
// strict field validation (kubectl's default) refuses them. Objects of other kinds (CRDs) are
// returned as they are.
func Normalize(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	if !scheme.Scheme.Recognizes(gvk) {
		return obj, nil
	}
	typed, err := scheme.Scheme.New(gvk)
	if err != nil {
		return obj, nil
	}
	if err := ConvertStrict(obj.Object, typed); err != nil {
		return nil, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	builtinDefaulter().Default(typed)
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	out := &unstructured.Unstructured{Object: content}
	out.SetGroupVersionKind(gvk)
	return out, nil
}

// ConvertStrict converts an object into its Go type, refusing unknown fields as the API server's
// strict field validation (kubectl's default) does, and naming the field of a value of the wrong type.
func ConvertStrict(object map[string]any, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(object, into, true); err != nil {
		if ferr := fieldTypeError(object, into); ferr != nil {
			return ferr
		}
		return err
	}
	return nil
}
