package policies

import (
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// NamespaceNameLabel is the label the API server puts on every namespace.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Store holds the objects that policies may read besides the request: namespaces (for
// namespaceSelector and the CEL namespaceObject), params (for paramRef) and the Gatekeeper inventory.
// Fill it with Add, then only read it: readers need no locking.
type Store struct {
	byKind map[schema.GroupVersionKind]cache.Indexer
	order  []*unstructured.Unstructured
	// namespaces are the Namespaces added, typed once; implied holds those made up for names that no
	// Namespace among the inputs has. Either way a name gives the same object every time, so that
	// what policies derive from a namespace can be kept per object.
	namespaces map[string]typedNamespace
	implied    sync.Map // name → *corev1.Namespace
}

type typedNamespace struct {
	ns  *corev1.Namespace
	err error
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{byKind: map[schema.GroupVersionKind]cache.Indexer{}, namespaces: map[string]typedNamespace{}}
}

// Add stores obj, replacing an object of the same kind, namespace and name. A Namespace gets the
// kubernetes.io/metadata.name label the API server gives it.
func (s *Store) Add(obj *unstructured.Unstructured) {
	gvk := obj.GroupVersionKind()
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		obj = WithNamespaceNameLabel(obj)
		if gvk.Version == "v1" {
			ns := &corev1.Namespace{}
			err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ns)
			if err != nil {
				ns, err = nil, apierrors.NewInternalError(err)
			}
			s.namespaces[obj.GetName()] = typedNamespace{ns, err}
		}
	}
	idx, ok := s.byKind[gvk]
	if !ok {
		idx = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		s.byKind[gvk] = idx
	}
	_ = idx.Add(obj) // only fails for objects without metadata, which the loader refuses
	s.order = append(s.order, obj)
}

// WithNamespaceNameLabel returns ns with the kubernetes.io/metadata.name label set to its name, copying
// it only when the label is missing or wrong.
func WithNamespaceNameLabel(ns *unstructured.Unstructured) *unstructured.Unstructured {
	l := ns.GetLabels()
	if l[NamespaceNameLabel] == ns.GetName() {
		return ns
	}
	ns = ns.DeepCopy()
	if l == nil {
		l = map[string]string{}
	}
	l[NamespaceNameLabel] = ns.GetName()
	ns.SetLabels(l)
	return ns
}

// Objects returns every stored object in the order added.
func (s *Store) Objects() []*unstructured.Unstructured { return s.order }

// Lister returns a lister of the objects of one kind (empty if none were added). Lists come in the
// order of namespace and name, so that a policy evaluated once per param reports in a stable order
// (an informer's lister, as kube-apiserver has, lists in no particular order).
func (s *Store) Lister(gvk schema.GroupVersionKind, resource schema.GroupResource) cache.GenericLister {
	idx, ok := s.byKind[gvk]
	if !ok {
		idx = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	return sortedLister{cache.NewGenericLister(idx, resource)}
}

type sortedLister struct{ cache.GenericLister }

func (l sortedLister) List(selector labels.Selector) ([]runtime.Object, error) {
	out, err := l.GenericLister.List(selector)
	sortObjects(out)
	return out, err
}

func (l sortedLister) ByNamespace(namespace string) cache.GenericNamespaceLister {
	return sortedNamespaceLister{l.GenericLister.ByNamespace(namespace)}
}

type sortedNamespaceLister struct{ cache.GenericNamespaceLister }

func (l sortedNamespaceLister) List(selector labels.Selector) ([]runtime.Object, error) {
	out, err := l.GenericNamespaceLister.List(selector)
	sortObjects(out)
	return out, err
}

func sortObjects(objs []runtime.Object) {
	key := func(o runtime.Object) string {
		if u, ok := o.(*unstructured.Unstructured); ok {
			return u.GetNamespace() + "/" + u.GetName()
		}
		return ""
	}
	sort.SliceStable(objs, func(i, j int) bool { return key(objs[i]) < key(objs[j]) })
}

// Namespace returns the named namespace. A namespace that was not supplied exists with only the
// label the API server gives every namespace: in CI a manifest's namespace is rarely among the inputs,
// and the API server would refuse the object if it did not exist.
func (s *Store) Namespace(name string) (*corev1.Namespace, error) {
	if t, ok := s.namespaces[name]; ok {
		return t.ns, t.err
	}
	if ns, ok := s.implied.Load(name); ok {
		return ns.(*corev1.Namespace), nil
	}
	ns := &corev1.Namespace{}
	ns.APIVersion, ns.Kind = "v1", "Namespace"
	ns.Name = name
	ns.Labels = map[string]string{NamespaceNameLabel: name}
	got, _ := s.implied.LoadOrStore(name, ns)
	return got.(*corev1.Namespace), nil
}

// NamespaceLister adapts the store to client-go's NamespaceLister, for the API server's matchers.
func (s *Store) NamespaceLister() corelisters.NamespaceLister { return namespaceLister{s} }

type namespaceLister struct{ s *Store }

func (l namespaceLister) List(selector labels.Selector) ([]*corev1.Namespace, error) {
	var out []*corev1.Namespace
	for _, o := range l.s.Objects() {
		if o.GetKind() != "Namespace" || o.GroupVersionKind().Group != "" {
			continue
		}
		ns, err := l.s.Namespace(o.GetName())
		if err != nil {
			return nil, err
		}
		if selector.Matches(labels.Set(ns.Labels)) {
			out = append(out, ns)
		}
	}
	return out, nil
}

func (l namespaceLister) Get(name string) (*corev1.Namespace, error) { return l.s.Namespace(name) }
