package simulate

import (
	"fmt"
	"net/http"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
)

// builtinTypes is the structured-merge schema of the built-in kinds, generated from the same
// OpenAPI definitions as kube-apiserver's own type converter.
var builtinTypes = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(scheme)
})

// fieldManagers are the API server's field managers, one per kind, made when first needed.
type fieldManagers map[schema.GroupVersionKind]*managedfields.FieldManager

// fieldManager is the field manager kube-apiserver installs for gvk: for a built-in kind
// managedfields.NewDefaultFieldManager over the internal version (endpoints/installer.go), for a
// custom resource the CRD handler's NewDefaultCRDFieldManager over its served version, each with
// the fields its registry strategy resets (status, for the main resource). It records which
// manager owns which fields on every write and merges server-side applies.
func (w *world) fieldManager(gvk schema.GroupVersionKind, custom *customKind) (*managedfields.FieldManager, error) {
	if custom != nil {
		if custom.fields == nil {
			types := custom.typeConverter
			if types == nil {
				types = managedfields.NewDeducedTypeConverter()
			}
			fm, err := managedfields.NewDefaultCRDFieldManager(types, sameVersion{}, customDefaulter{custom}, customCreator{}, gvk, gvk.GroupVersion(), "", resetFields(custom.strategy))
			if err != nil {
				return nil, err
			}
			custom.fields = fm
		}
		return custom.fields, nil
	}
	if fm, ok := w.fields[gvk]; ok {
		return fm, nil
	}
	hub := schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal}
	fm, err := managedfields.NewDefaultFieldManager(builtinTypes(), runtime.UnsafeObjectConvertor(scheme), scheme, scheme, gvk, hub, "", resetFields(strategies[gvk.GroupKind()]))
	if err != nil {
		return nil, err
	}
	if w.fields == nil {
		w.fields = fieldManagers{}
	}
	w.fields[gvk] = fm
	return fm, nil
}

// resetFields are the fields a strategy resets on every write, which no manager owns.
func resetFields(s strategy) map[fieldpath.APIVersion]fieldpath.Filter {
	if r, ok := s.(rest.ResetFieldsStrategy); ok {
		return fieldpath.NewExcludeFilterSetMap(r.GetResetFields())
	}
	return nil
}

// recordFields is what the create, update and patch handlers do before admission
// (FieldManager.UpdateNoErrors): the request's manager becomes the owner of the fields it set or
// changed. live is the object before the write, nil for a create.
func (w *world) recordFields(a *attempt, custom *customKind, obj, live runtime.Object) (runtime.Object, error) {
	fm, err := w.fieldManager(a.gvk, custom)
	if err != nil {
		return nil, err
	}
	if live == nil {
		if live, err = newObject(a.gvk); err != nil {
			return nil, err
		}
	}
	return fm.UpdateNoErrors(live, obj, managerOf(a.options)), nil
}

// serverSideApply is the apply patcher's merge (FieldManager.Apply): the applied object merged
// into live (nil when the apply creates the object) by the owners of its fields. A field another
// manager owns with another value is a conflict, a 409 kubectl words with its advice.
func (w *world) serverSideApply(a *attempt, custom *customKind, applied, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	fm, err := w.fieldManager(a.gvk, custom)
	if err != nil {
		return nil, err
	}
	var liveObj runtime.Object
	if live != nil && len(live.GetManagedFields()) == 0 {
		if live, err = assumeOwners(fm, custom, a.gvk, live, applied); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
	}
	if live != nil {
		if custom == nil {
			if liveObj, _, err = toInternal(live); err != nil {
				return nil, apierrors.NewInternalError(err)
			}
		} else {
			liveObj = live.DeepCopy()
		}
	} else if liveObj, err = newObject(a.gvk); err != nil {
		return nil, err
	}
	out, err := fm.Apply(liveObj, applied.DeepCopy(), managerOf(a.options), false)
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, fmt.Errorf("%w\n%s", err, conflictAdvice)
		}
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, err
		}
		// What the API server's responsewriters.ErrorToAPIStatus makes of an error that is no
		// API error (kubectl prints it after "Error from server: ").
		return nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonUnknown, Message: err.Error()}}
	}
	return fromInternal(out, a.gvk)
}

// assumeOwners gives an object without managed fields (one of --existing as `kubectl get -o yaml`
// prints it, without them) the owners its history most likely gave it, on the fields that history
// set (not those admission added, which nobody owns). With client-side apply's annotation,
// client-side apply's manager owns, by an update, the fields of the configuration the annotation
// holds, their defaults and the annotation, as when it created the object. Without it, the object
// was made by a server-side apply whose configuration is unknown: kubectl's server-side manager
// owns, by an apply, the fields the manifest applies now, so that the apply neither conflicts nor
// removes.
// (The API server would give every field to "before-first-apply", by an update, which conflicts
// with every change of value: what it does for an object whose managed fields were removed, not
// for one created through it.)
func assumeOwners(fm *managedfields.FieldManager, custom *customKind, gvk schema.GroupVersionKind, live, applied *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	empty, err := newObject(gvk)
	if err != nil {
		return nil, err
	}
	config, manager, operation := applied.DeepCopy(), serverSideManager, metav1.ManagedFieldsOperationApply
	if last, ok := live.GetAnnotations()[corev1.LastAppliedConfigAnnotation]; ok {
		config, manager, operation = &unstructured.Unstructured{}, clientSideManager, metav1.ManagedFieldsOperationUpdate
		if err := config.UnmarshalJSON([]byte(last)); err != nil {
			return live, nil // an annotation that is no object: no owners to assume
		}
		config.SetGroupVersionKind(gvk)
		// The manager wrote the annotation too (which kubectl's migration looks for).
		annotations := config.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[corev1.LastAppliedConfigAnnotation] = last
		config.SetAnnotations(annotations)
	}
	var obj runtime.Object = config
	if scheme.Recognizes(gvk) {
		typed, err := scheme.New(gvk)
		if err != nil {
			return nil, err
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(config.Object, typed); err != nil {
			return live, nil
		}
		if operation == metav1.ManagedFieldsOperationUpdate {
			scheme.Default(typed)
		}
		obj = typed
	} else if custom != nil && operation == metav1.ManagedFieldsOperationUpdate {
		customDefaulter{custom}.Default(obj)
	}
	owned, err := fm.Update(empty, obj, manager)
	if err != nil {
		return nil, err
	}
	accessor, err := meta.Accessor(owned)
	if err != nil {
		return nil, err
	}
	entries := accessor.GetManagedFields()
	for i := range entries {
		entries[i].Operation = operation
	}
	out := live.DeepCopy()
	out.SetManagedFields(entries)
	return out, nil
}

// conflictAdvice is what kubectl apply --server-side adds to a conflict (cmd/apply, apply.go).
const conflictAdvice = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the ` + "`--force-conflicts`" + ` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts`

// newObject is an empty object of the kind a write names, the live object of a create (the
// handlers' Creater.New of the request's versioned kind: an internal object would convert into
// zero values, such as replicas 0, that nobody set).
func newObject(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if !scheme.Recognizes(gvk) {
		return customCreator{}.New(gvk)
	}
	return scheme.New(gvk)
}

// managerOf is the field manager of a write: the request's fieldManager, or as the API server
// names one without it (managerOrUserAgent), the client of kubectl's user agent.
func managerOf(options runtime.Object) string {
	switch o := options.(type) {
	case *metav1.CreateOptions:
		if o.FieldManager != "" {
			return o.FieldManager
		}
	case *metav1.UpdateOptions:
		if o.FieldManager != "" {
			return o.FieldManager
		}
	}
	return "kubectl"
}

// sameVersion converts a custom resource within its one served version, as the CRD handler's
// converter does when the version asked for is the hub.
type sameVersion struct{}

func (sameVersion) Convert(in, out, _ any) error {
	u, ok := in.(*unstructured.Unstructured)
	o, ok2 := out.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return fmt.Errorf("cannot convert %T to %T", in, out)
	}
	o.Object = runtime.DeepCopyJSON(u.Object)
	return nil
}

func (sameVersion) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	gvk := in.GetObjectKind().GroupVersionKind()
	if to, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk}); ok {
		in.GetObjectKind().SetGroupVersionKind(to)
	}
	return in, nil
}

func (sameVersion) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

// customCreator and customDefaulter are the CRD handler's unstructuredCreator and
// unstructuredDefaulter: an empty object of the kind, and the structural schema's defaults.
type customCreator struct{}

func (customCreator) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

type customDefaulter struct{ kind *customKind }

func (d customDefaulter) Default(in runtime.Object) {
	if u, ok := in.(*unstructured.Unstructured); ok && d.kind.structural != nil {
		structuraldefaulting.Default(u.Object, d.kind.structural)
	}
}
