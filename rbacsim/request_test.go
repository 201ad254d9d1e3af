package rbacsim

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// attrs is the part of authorizer attributes that a request line decides.
type attrs struct {
	Resource                                              bool
	Verb, Group, Version, Res, Sub, Namespace, Name, Path string
}

func attrsOf(a authorizer.AttributesRecord) attrs {
	return attrs{a.ResourceRequest, a.Verb, a.APIGroup, a.APIVersion, a.Resource, a.Subresource, a.Namespace, a.Name, a.Path}
}

func TestParseRequest(t *testing.T) {
	pods := "/api/v1/namespaces/x/pods"
	res := func(verb, group, version, resource, sub, ns, name, path string) attrs {
		return attrs{true, verb, group, version, resource, sub, ns, name, path}
	}
	url := func(verb, path string) attrs { return attrs{Verb: verb, Path: path} }
	tests := []struct {
		name string
		line string
		want attrs
	}{
		{"list", "GET " + pods, res("list", "", "v1", "pods", "", "x", "", pods)},
		{"get", "GET " + pods + "/web", res("get", "", "v1", "pods", "", "x", "web", pods+"/web")},
		{"HEAD is get", "HEAD " + pods + "/web", res("get", "", "v1", "pods", "", "x", "web", pods+"/web")},
		{"watch=1", "GET " + pods + "?watch=1", res("watch", "", "v1", "pods", "", "x", "", pods)},
		{"watch=true", "GET " + pods + "?watch=true&resourceVersion=12", res("watch", "", "v1", "pods", "", "x", "", pods)},
		{"watch=false", "GET " + pods + "?watch=false", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"watch=0", "GET /apis/apps/v1/namespaces/x/deployments?watch=0", res("list", "apps", "v1", "deployments", "", "x", "", "/apis/apps/v1/namespaces/x/deployments")},
		{"watch on a named get is a get", "GET " + pods + "/web?watch=1", res("get", "", "v1", "pods", "", "x", "web", pods+"/web")},
		{"watch despite a bad parameter", "GET " + pods + "?limit=many&watch=1", res("watch", "", "v1", "pods", "", "x", "", pods)},
		{"list despite a bad label selector", "GET " + pods + "?labelSelector=a%20in%20(", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"legacy watch prefix", "GET /api/v1/watch/namespaces/x/pods", res("watch", "", "v1", "pods", "", "x", "", "/api/v1/watch/namespaces/x/pods")},
		{"legacy watch prefix, named", "GET /api/v1/watch/namespaces/x/pods/web", res("watch", "", "v1", "pods", "", "x", "web", "/api/v1/watch/namespaces/x/pods/web")},
		{"legacy watch prefix, cluster-wide", "GET /api/v1/watch/pods", res("watch", "", "v1", "pods", "", "", "", "/api/v1/watch/pods")},
		{"legacy watch prefix, grouped", "GET /apis/apps/v1/watch/namespaces/x/deployments?watch=1", res("watch", "apps", "v1", "deployments", "", "x", "", "/apis/apps/v1/watch/namespaces/x/deployments")},
		{"legacy watch prefix, any method", "POST /api/v1/watch/nodes", res("watch", "", "v1", "nodes", "", "", "", "/api/v1/watch/nodes")},
		{"DELETE without a name", "DELETE " + pods, res("deletecollection", "", "v1", "pods", "", "x", "", pods)},
		{"DELETE with a name", "DELETE " + pods + "/web", res("delete", "", "v1", "pods", "", "x", "web", pods+"/web")},
		{"DELETE with a field selector is still a collection", "DELETE " + pods + "?fieldSelector=metadata.name%3Dweb", res("deletecollection", "", "v1", "pods", "", "x", "", pods)},
		{"field selector names the object", "GET " + pods + "?fieldSelector=metadata.name%3Dweb", res("list", "", "v1", "pods", "", "x", "web", pods)},
		{"field selector unescaped", "GET " + pods + "?fieldSelector=metadata.name=web", res("list", "", "v1", "pods", "", "x", "web", pods)},
		{"field selector ==", "GET " + pods + "?fieldSelector=metadata.name%3D%3Dweb", res("list", "", "v1", "pods", "", "x", "web", pods)},
		{"field selector with a watch", "GET /api/v1/pods?fieldSelector=metadata.name%3Dweb&watch=1", res("watch", "", "v1", "pods", "", "", "web", "/api/v1/pods")},
		{"field selector among others", "GET " + pods + "?fieldSelector=spec.nodeName%3Dn1,metadata.name%3Dweb", res("list", "", "v1", "pods", "", "x", "web", pods)},
		{"field selector !=", "GET " + pods + "?fieldSelector=metadata.name!%3Dweb", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"field selector of another field", "GET " + pods + "?fieldSelector=spec.nodeName%3Dweb", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"field selector name not a path segment", "GET " + pods + "?fieldSelector=metadata.name%3Da%2Fb", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"field selector on the legacy watch prefix", "GET /api/v1/watch/namespaces/x/pods?fieldSelector=metadata.name%3Dweb", res("watch", "", "v1", "pods", "", "x", "", "/api/v1/watch/namespaces/x/pods")},
		{"subresource", "GET " + pods + "/web/log?container=c", res("get", "", "v1", "pods", "log", "x", "web", pods+"/web/log")},
		{"exec", "POST " + pods + "/web/exec?command=ls&stdout=true", res("create", "", "v1", "pods", "exec", "x", "web", pods+"/web/exec")},
		{"exec over a websocket", "GET " + pods + "/web/exec?command=ls", res("get", "", "v1", "pods", "exec", "x", "web", pods+"/web/exec")},
		{"scale", "PATCH /apis/apps/v1/namespaces/x/deployments/web/scale", res("patch", "apps", "v1", "deployments", "scale", "x", "web", "/apis/apps/v1/namespaces/x/deployments/web/scale")},
		{"status of a custom resource", "PUT /apis/example.com/v1/namespaces/x/widgets/w/status", res("update", "example.com", "v1", "widgets", "status", "x", "w", "/apis/example.com/v1/namespaces/x/widgets/w/status")},
		{"token", "POST /api/v1/namespaces/x/serviceaccounts/sa/token", res("create", "", "v1", "serviceaccounts", "token", "x", "sa", "/api/v1/namespaces/x/serviceaccounts/sa/token")},
		{"proxy subresource", "GET " + pods + "/web:8080/proxy/metrics", res("get", "", "v1", "pods", "proxy", "x", "web:8080", pods+"/web:8080/proxy/metrics")},
		{"node proxy subresource", "GET /api/v1/nodes/n1/proxy/stats/summary", res("get", "", "v1", "nodes", "proxy", "", "n1", "/api/v1/nodes/n1/proxy/stats/summary")},
		{"legacy proxy prefix", "GET /api/v1/proxy/namespaces/x/pods/web/metrics", res("proxy", "", "v1", "pods", "", "x", "web", "/api/v1/proxy/namespaces/x/pods/web/metrics")},
		{"legacy proxy prefix, node", "PUT /api/v1/proxy/nodes/n1", res("proxy", "", "v1", "nodes", "", "", "n1", "/api/v1/proxy/nodes/n1")},
		{"legacy proxy prefix, no name", "GET /api/v1/proxy/nodes", res("proxy", "", "v1", "nodes", "", "", "", "/api/v1/proxy/nodes")},
		{"namespaces", "GET /api/v1/namespaces", res("list", "", "v1", "namespaces", "", "", "", "/api/v1/namespaces")},
		{"a namespace", "GET /api/v1/namespaces/x", res("get", "", "v1", "namespaces", "", "x", "x", "/api/v1/namespaces/x")},
		{"delete a namespace", "DELETE /api/v1/namespaces/x", res("delete", "", "v1", "namespaces", "", "x", "x", "/api/v1/namespaces/x")},
		{"namespace status", "GET /api/v1/namespaces/x/status", res("get", "", "v1", "namespaces", "status", "x", "x", "/api/v1/namespaces/x/status")},
		{"namespace finalize", "PUT /api/v1/namespaces/x/finalize", res("update", "", "v1", "namespaces", "finalize", "x", "x", "/api/v1/namespaces/x/finalize")},
		{"cluster-wide list", "GET /apis/apps/v1/deployments", res("list", "apps", "v1", "deployments", "", "", "", "/apis/apps/v1/deployments")},
		{"cluster-scoped create", "POST /apis/rbac.authorization.k8s.io/v1/clusterroles?fieldManager=kubectl-client-side-apply", res("create", "rbac.authorization.k8s.io", "v1", "clusterroles", "", "", "", "/apis/rbac.authorization.k8s.io/v1/clusterroles")},
		{"review", "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews", res("create", "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "", "", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")},
		{"trailing slash", "GET " + pods + "/", res("list", "", "v1", "pods", "", "x", "", pods+"/")},
		{"escaped slash splits", "GET /api/v1/namespaces/x/pods%2Fweb", res("get", "", "v1", "pods", "", "x", "web", pods+"/web")},
		{"unknown method", "OPTIONS " + pods, res("", "", "v1", "pods", "", "x", "", pods)},
		{"full URL, as kubectl -v=8 logs it", "GET https://127.0.0.1:6443/api/v1/namespaces/default/pods?limit=500", res("list", "", "v1", "pods", "", "default", "", "/api/v1/namespaces/default/pods")},
		{"a client-go log line", `I1201 13:07:01.123456   4242 round_trippers.go:527] "Request" verb="GET" url="https://127.0.0.1:6443/apis/apps/v1/namespaces/x/deployments?watch=1" headers=<`,
			res("watch", "apps", "v1", "deployments", "", "x", "", "/apis/apps/v1/namespaces/x/deployments")},
		{"with the protocol", "GET " + pods + " HTTP/1.1", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"extra spaces", "  GET   " + pods + "  ", res("list", "", "v1", "pods", "", "x", "", pods)},
		{"group version only", "GET /apis/apps/v1", url("get", "/apis/apps/v1")},
		{"group only", "GET /apis/apps", url("get", "/apis/apps")},
		{"apis", "GET /apis", url("get", "/apis")},
		{"core version", "GET /api/v1", url("get", "/api/v1")},
		{"api", "GET /api?timeout=32s", url("get", "/api")},
		{"healthz", "GET /healthz?verbose", url("get", "/healthz")},
		{"healthz check", "GET /healthz/etcd", url("get", "/healthz/etcd")},
		{"HEAD on a URL", "HEAD /readyz", url("head", "/readyz")},
		{"POST on a URL", "POST /logs/x", url("post", "/logs/x")},
		{"openapi", "GET /openapi/v3/apis/apps/v1", url("get", "/openapi/v3/apis/apps/v1")},
		{"version", "GET /version", url("get", "/version")},
		{"root", "GET /", url("get", "/")},
		{"other prefix", "GET /metrics/slis/x", url("get", "/metrics/slis/x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, attrsOf(got)); diff != "" {
				t.Errorf("ParseRequest(%q) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"", "expected METHOD PATH[?QUERY]"},
		{"GET", "expected METHOD PATH[?QUERY]"},
		{"GET /a /b", "expected METHOD PATH[?QUERY]"},
		{"GET /a HTTP/1.1 x", "expected METHOD PATH[?QUERY]"},
		{"get /api/v1/pods", `method "get": HTTP methods are upper case, such as GET`},
		{"GET api/v1/pods", `path "api/v1/pods" does not start with /`},
		{"G(T /api/v1/pods", "invalid method"},
		{"GET /api/v1/pods HTTP/9", "malformed HTTP version"},
		{"GET /api/v1/watch", "the API server cannot resolve it (it answers 500): unable to determine kind and namespace"},
		{"GET /apis/apps/v1/proxy", "unable to determine kind and namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := ParseRequest(tt.line)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a *RequestError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for line, want := range map[string]string{
		"GET /apis/apps/v1/namespaces/x/deployments?watch=1": "watch deployments.apps -n x",
		"GET /api/v1/namespaces/x/pods/web/log":              "get pods/web --subresource log -n x",
		"GET /api/v1/nodes":                                  "list nodes (cluster-wide)",
		"GET /healthz":                                       "get /healthz",
	} {
		a, err := ParseRequest(line)
		if err != nil {
			t.Fatal(err)
		}
		if got := Describe(a); got != want {
			t.Errorf("Describe(%q) = %q, want %q", line, got, want)
		}
	}
}
