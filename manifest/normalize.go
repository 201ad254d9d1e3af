package manifest

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/verdict-dev/verdict/internal/typedconv"
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
	// Strict conversion tracks every key it matches, which made it twice the cost of the plain one.
	// Plain conversion ignores unknown fields instead, and those never reach the typed object: when
	// every field of the input is still in the output, there was none; otherwise (an unknown field,
	// or only an empty value the type drops) the strict converter decides. Its errors, and those of
	// a value of the wrong type, are the ones reported.
	if err := typedconv.FromUnstructured(obj.Object, typed); err != nil {
		if serr := strictError(obj, gvk); serr != nil {
			return nil, serr
		}
		return nil, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	builtinDefaulter().Default(typed)
	content, err := typedconv.ToUnstructured(typed)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	if !kept(obj.Object, content) {
		if err := strictError(obj, gvk); err != nil {
			return nil, err
		}
	}
	out := &unstructured.Unstructured{Object: content}
	out.SetGroupVersionKind(gvk)
	return out, nil
}

// strictError is the error of converting obj strictly into its type, or nil.
func strictError(obj *unstructured.Unstructured, gvk schema.GroupVersionKind) error {
	typed, err := scheme.Scheme.New(gvk)
	if err == nil {
		err = ConvertStrict(obj.Object, typed)
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", gvk.Kind, obj.GetName(), err)
	}
	return nil
}

// kept says whether every field of in, at every depth, is also in out.
func kept(in, out any) bool {
	switch in := in.(type) {
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range in {
			ov, ok := o[k]
			if !ok || !kept(v, ov) {
				return false
			}
		}
	case []any:
		o, ok := out.([]any)
		if !ok || len(o) != len(in) {
			return false
		}
		for i := range in {
			if !kept(in[i], o[i]) {
				return false
			}
		}
	}
	return true
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
