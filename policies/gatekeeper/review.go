package gatekeeper

import (
	"encoding/json"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/internal/typedconv"
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
// AdmissionRequest as it marshals to JSON (omitting what it omits), plus namespaceObject (Gatekeeper
// 3.23's: the namespace of the request as JSON, or null; gator passes none) and, unless as gator test, _unstable with
// unstable (the namespace, for templates that read _unstable.namespace) when it is not nil.
func reviewMap(req *policies.Request, unstable, namespaceObject *corev1.Namespace, gatorTest bool, forms *namespaceForms) map[string]any {
	m := requestMap(req)
	m["namespaceObject"] = nil
	if namespaceObject != nil {
		m["namespaceObject"] = forms.get(namespaceObject).json
	}
	if gatorTest {
		return m
	}
	u := map[string]any{}
	if unstable != nil {
		if ns := forms.get(unstable).unstructured; ns != nil {
			u["namespace"] = ns
		}
	}
	m["_unstable"] = u
	return m
}

// namespaceForms remembers the two forms of each Namespace that reviews carry: every review of a
// namespace's objects has them, and converting the Namespace each time was a tenth of judging an
// object. Namespaces come from a Store or an informer's cache, which hold one object per version of a
// namespace; the cache is emptied when it reaches maxNamespaceForms, so a long-running webhook
// whose namespaces change keeps a bounded number.
type namespaceForms struct {
	mu    sync.RWMutex
	forms map[*corev1.Namespace]namespaceForm
}

type namespaceForm struct {
	json         map[string]any // util.NamespaceToMap's: the Namespace marshalled to JSON
	unstructured map[string]any // the Namespace through the unstructured converter
}

const maxNamespaceForms = 4096

// The maps returned are shared by every review of the namespace: nothing may change them.
func (c *namespaceForms) get(ns *corev1.Namespace) namespaceForm {
	c.mu.RLock()
	f, ok := c.forms[ns]
	c.mu.RUnlock()
	if ok {
		return f
	}
	f.json = namespaceMap(ns)
	if u, err := typedconv.ToUnstructured(ns); err == nil {
		f.unstructured = u
	}
	c.mu.Lock()
	if c.forms == nil || len(c.forms) >= maxNamespaceForms {
		c.forms = map[*corev1.Namespace]namespaceForm{}
	}
	c.forms[ns] = f
	c.mu.Unlock()
	return f
}

// namespaceMap is a Namespace as Gatekeeper passes it to its drivers (util.NamespaceToMap: the
// Namespace marshalled to JSON), or nil.
func namespaceMap(ns *corev1.Namespace) map[string]any {
	data, err := json.Marshal(ns)
	if err != nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil
	}
	return out
}

// requestMap is the admission.k8s.io/v1 AdmissionRequest as it marshals to JSON.
func requestMap(req *policies.Request) map[string]any {
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
	return m
}

func objectOrNil(u *unstructured.Unstructured) any {
	if u == nil {
		return nil
	}
	return u.Object
}

func userInfo(req *policies.Request) map[string]any { return req.UserInfoMap() }
