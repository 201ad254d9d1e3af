package simulate

import (
	"context"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"

	"github.com/verdict-dev/verdict/rbacsim"
)

// The field managers kubectl apply names in its requests (k8s.io/kubectl/pkg/cmd/apply).
const (
	clientSideManager = "kubectl-client-side-apply"
	serverSideManager = "kubectl"
)

// objectPath is the path of an object of a resource, as client-go builds it: /api/v1 for the core
// group, /apis/GROUP/VERSION otherwise, then namespaces/NS when the resource is namespaced, then the
// resource and the name (which may be empty, for a collection).
func objectPath(gvr schema.GroupVersionResource, namespace, name string) string {
	p := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		p = "/api/" + gvr.Version
	}
	if namespace != "" {
		p += "/namespaces/" + url.PathEscape(namespace)
	}
	p += "/" + gvr.Resource
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// withQuery adds kubectl's query parameters to a path.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// writeQuery is the query of kubectl apply's POST and PATCH: its field manager and the strict
// server-side field validation that kubectl asks for by default (--validate=strict).
func writeQuery(manager string, serverSide bool) url.Values {
	q := url.Values{"fieldManager": {manager}, "fieldValidation": {"Strict"}}
	if serverSide {
		q.Set("force", "false")
	}
	return q
}

// authorize turns a request line into the API server's attributes (rbacsim.ParseRequest, the API
// server's RequestInfo code), decides it, and returns the request as reported and, when it is
// refused, the API server's Forbidden error.
func (w *world) authorize(ctx context.Context, method, path string) (Request, authorizer.AttributesRecord, error) {
	attrs, err := rbacsim.ParseRequest(method + " " + path)
	if err != nil {
		return Request{Method: method, Path: path}, attrs, err
	}
	attrs.User = w.user
	return w.decide(ctx, method, path, attrs)
}

// decide decides attributes with the cluster's authorizer, as the API server's WithAuthorization
// filter does, and words a denial as its responsewriters.Forbidden does.
func (w *world) decide(ctx context.Context, method, path string, attrs authorizer.AttributesRecord) (Request, authorizer.AttributesRecord, error) {
	decision, reason, _ := w.authorizer().Authorize(ctx, attrs)
	req := Request{Method: method, Path: path, Verb: attrs.Verb, Allowed: decision == authorizer.DecisionAllow, Reason: reason}
	if req.Allowed {
		return req, attrs, nil
	}
	return req, attrs, responsewriters.ForbiddenStatusError(attrs, reason)
}
