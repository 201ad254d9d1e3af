package gatekeeper

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/policies"
)

// GatorTestNamespaces finds the namespace of a request as gator test does
// (gatekeeper pkg/gator/expand.Expander.NamespaceForResource, v3.23): an object that names no
// namespace, cluster-scoped or not, has an empty Namespace (no name, no labels), so that a
// constraint's match.namespaces never matches it, match.scope Namespaced does and Cluster does not
// (except for a Namespace), and a namespaceSelector sees no labels; a namespace whose Namespace is
// among objects is that Namespace; "default" exists without labels; any other namespace is unknown
// (nil). It is the view of verdict check --as-written, which reports what gator test reports: with
// it, input.review.namespaceObject is null, as gator test passes no namespace to the drivers.
func GatorTestNamespaces(objects []*unstructured.Unstructured) NamespaceGetter {
	g := gatorTestNamespaces{}
	for _, o := range objects {
		if !isNamespace(o) {
			continue
		}
		ns := &corev1.Namespace{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ns); err != nil {
			// gator would have refused the object; a Namespace with its name is the closest.
			ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Labels: o.GetLabels()}}
		}
		g[o.GetName()] = ns
	}
	return g
}

type gatorTestNamespaces map[string]*corev1.Namespace

func (g gatorTestNamespaces) Namespace(name string) (*corev1.Namespace, error) {
	if name == "" {
		return &corev1.Namespace{}, nil
	}
	if ns, ok := g[name]; ok {
		return ns, nil
	}
	if name == "default" {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, nil
	}
	return nil, nil
}

// gatorTest marks the NamespaceGetter of gator test's view: it is asked for the namespace "" too (an
// object that names none), and the Rego input.review has namespaceObject null (gator test passes no
// namespace to the drivers) and no _unstable (Gatekeeper 3.23 has none).
func (gatorTestNamespaces) gatorTest() {}

// isGatorTest reports whether g is gator test's view.
func isGatorTest(g NamespaceGetter) bool {
	_, ok := g.(interface{ gatorTest() })
	return ok
}

// gatorTestRequest is a request as gator test reviews a manifest: no operation, no resource and no
// options (gator test builds its review from the object alone). An UPDATE or DELETE stays one, since
// only the user's --operation asks for it and gator test has no way to.
func gatorTestRequest(req *policies.Request) *policies.Request {
	r := *req
	if r.Operation == policies.Create {
		r.Operation = ""
	}
	r.Resource, r.Options = schema.GroupVersionResource{}, nil
	return &r
}
