package manifest

import (
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultNamespace is where a namespaced object without a namespace goes, as with kubectl.
const DefaultNamespace = "default"

// View presents manifests to policies. The zero AsWritten is the API server's view: each object
// as admission sees it after `kubectl apply` (decoded through its type, defaults filled in, a
// namespaced object without a namespace in Namespace or "default", a removed API version refused).
// AsWritten is the view of gator and conftest: every object exactly as written.
//
// A View is safe for concurrent use; it remembers the unknown kinds it met, to note each once.
type View struct {
	Resources *Resources
	// AsWritten presents objects exactly as written: no defaults, no type round trip, no namespace.
	AsWritten bool
	// Strict refuses kinds that are neither built in nor defined by a CRD, as kubectl apply does;
	// otherwise they are judged as written, namespaced when they name a namespace.
	Strict bool
	// Namespace is the namespace of namespaced objects that name none ("default" when empty); an
	// object naming another namespace is refused, as kubectl refuses it.
	Namespace string

	mu      sync.Mutex
	unknown map[schema.GroupVersionKind]bool
}

// Presented is an object as a View presents it.
type Presented struct {
	Object    *unstructured.Unstructured
	Resource  schema.GroupVersionResource
	Namespace string
	// Warnings are what the API server would warn of, such as a deprecated API version.
	Warnings []string
}

// Present returns obj as the view presents it. The object is copied only where it must change.
func (v *View) Present(obj *unstructured.Unstructured) (*Presented, error) {
	gvk := obj.GroupVersionKind()
	res, known := v.Resources.Lookup(gvk)
	if v.AsWritten {
		if !known {
			res = guessResource(obj)
		}
		return &Presented{Object: obj, Resource: res.GVR, Namespace: obj.GetNamespace()}, nil
	}
	if err := removedVersion(gvk); err != nil {
		return nil, err
	}
	var warnings []string
	if !known {
		if served := ServedVersions(gvk.GroupKind()); len(served) > 0 {
			return nil, &UnservedVersionError{GVK: gvk, Served: served}
		}
		if v.Strict {
			return nil, &NoKindMatchError{GVK: gvk}
		}
		v.noteUnknown(gvk)
		res = guessResource(obj)
	} else {
		if w := deprecatedVersion(gvk); w != "" {
			warnings = append(warnings, w)
		}
		var err error
		if obj, err = Normalize(obj); err != nil {
			return nil, err
		}
	}
	ns := ""
	if res.Namespaced {
		ns = obj.GetNamespace()
		switch {
		case ns == "" && v.Namespace != "":
			ns = v.Namespace
		case ns == "":
			ns = DefaultNamespace
		case v.Namespace != "" && ns != v.Namespace:
			return nil, fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation",
				ns, v.Namespace, ns)
		}
		if obj.GetNamespace() != ns {
			obj = obj.DeepCopy()
			obj.SetNamespace(ns)
		}
	}
	return &Presented{Object: obj, Resource: res.GVR, Namespace: ns, Warnings: warnings}, nil
}

// guessResource is what verdict assumes of a kind it does not know: the plural kubectl would guess,
// and namespaced when the object names a namespace.
func guessResource(obj *unstructured.Unstructured) Resource {
	plural, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
	return Resource{GVR: plural, Namespaced: obj.GetNamespace() != ""}
}

func (v *View) noteUnknown(gvk schema.GroupVersionKind) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.unknown == nil {
		v.unknown = map[schema.GroupVersionKind]bool{}
	}
	v.unknown[gvk] = true
}

// Notes names each kind that was judged as written because neither the built-in kinds nor a CRD
// among the inputs define it, once, in a stable order.
func (v *View) Notes() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	kinds := make([]schema.GroupVersionKind, 0, len(v.unknown))
	for gvk := range v.unknown {
		kinds = append(kinds, gvk)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	notes := make([]string, len(kinds))
	for i, gvk := range kinds {
		notes[i] = fmt.Sprintf("%s %s is neither built in nor defined by a CustomResourceDefinition among the inputs: judged as written (--strict refuses it)",
			gvk.GroupVersion(), gvk.Kind)
	}
	return notes
}
