package rbacsim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// requestInfo is the API server's request info resolver, configured as
// k8s.io/apiserver/pkg/server.NewRequestInfoResolver configures it for kube-apiserver: every API
// prefix ("/apis", server.APIGroupPrefix, and the legacy "/api", server.DefaultLegacyAPIPrefix,
// which server.NewConfig puts in LegacyAPIGroupPrefixes), the legacy one without API groups.
// (Importing package server itself would bring etcd's client into verdict.)
var requestInfo = &apirequest.RequestInfoFactory{
	APIPrefixes:          sets.NewString("apis", "api"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// RequestError is a request line that the API server could not make a request of.
type RequestError struct {
	Line string
	Err  error
}

func (e *RequestError) Error() string { return fmt.Sprintf("request %q: %v", e.Line, e.Err) }
func (e *RequestError) Unwrap() error { return e.Err }

// ParseRequest turns one raw API request, "METHOD PATH[?QUERY]" as kubectl -v=8 prints it (the
// target may also be a full URL, and an "HTTP/1.1" may follow it; a whole client-go log line,
// `... "Request" verb="GET" url="https://..."`, is read too), into the attributes the API
// server authorizes, with no user: the line is read as net/http reads a request line, then goes
// through the API server's RequestInfoFactory and filters.GetAuthorizerAttributes, so that
// "GET /apis/apps/v1/namespaces/x/deployments?watch=1" is watch deployments.apps in x, a DELETE
// without a name is deletecollection, fieldSelector=metadata.name=N names the object, and a path
// that is no API resource is a non-resource URL.
func ParseRequest(line string) (authorizer.AttributesRecord, error) {
	fields := strings.Fields(line)
	if verb, url, ok := klogRequest(line); ok {
		fields = []string{verb, url}
	}
	switch {
	case len(fields) == 3 && strings.HasPrefix(fields[2], "HTTP/"):
	case len(fields) == 2:
		fields = append(fields, "HTTP/1.1")
	default:
		return authorizer.AttributesRecord{}, &RequestError{line, errors.New("expected METHOD PATH[?QUERY], such as GET /api/v1/namespaces/default/pods")}
	}
	method, target := fields[0], fields[1]
	if method != strings.ToUpper(method) {
		return authorizer.AttributesRecord{}, &RequestError{line, fmt.Errorf("method %q: HTTP methods are upper case, such as %s", method, strings.ToUpper(method))}
	}
	if !strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		return authorizer.AttributesRecord{}, &RequestError{line, fmt.Errorf("path %q does not start with / (nor is it a URL)", target)}
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " " + fields[2] + "\r\nHost: kube-apiserver\r\n\r\n")))
	if err != nil {
		return authorizer.AttributesRecord{}, &RequestError{line, err}
	}
	return requestAttributes(req, line)
}

// requestAttributes is what the API server's WithRequestInfo and WithAuthorization filters make of req.
func requestAttributes(req *http.Request, line string) (authorizer.AttributesRecord, error) {
	info, err := requestInfo.NewRequestInfo(req)
	if err != nil {
		// WithRequestInfo answers 500 and the request is never authorized.
		return authorizer.AttributesRecord{}, &RequestError{line, fmt.Errorf("the API server cannot resolve it (it answers 500): %w", err)}
	}
	attrs, err := filters.GetAuthorizerAttributes(apirequest.WithRequestInfo(context.Background(), info))
	if err != nil {
		return authorizer.AttributesRecord{}, &RequestError{line, err}
	}
	rec, ok := attrs.(*authorizer.AttributesRecord)
	if !ok {
		return authorizer.AttributesRecord{}, &RequestError{line, fmt.Errorf("unexpected attributes type %T", attrs)}
	}
	return *rec, nil
}

// Describe is a request's attributes in the terms of verdict rbac can-i, on one line:
// "watch deployments.apps -n x", "get pods/web --subresource log -n x", "list nodes (cluster-wide)",
// "get /healthz".
func Describe(a authorizer.Attributes) string {
	if !a.IsResourceRequest() {
		return a.GetVerb() + " " + a.GetPath()
	}
	s := a.GetVerb() + " " + a.GetResource()
	if a.GetAPIGroup() != "" {
		s += "." + a.GetAPIGroup()
	}
	if a.GetName() != "" {
		s += "/" + a.GetName()
	}
	if a.GetSubresource() != "" {
		s += " --subresource " + a.GetSubresource()
	}
	if a.GetNamespace() != "" {
		s += " -n " + a.GetNamespace()
	} else {
		s += " (cluster-wide)"
	}
	return s
}

// klogRequest finds the method and URL of a client-go round-tripper log line, where kubectl -v=6
// and above log each request as `"Request" verb="GET" url="https://host/api/v1/pods?limit=500"`.
func klogRequest(line string) (verb, url string, ok bool) {
	value := func(key string) string {
		i := strings.Index(line, " "+key+`="`)
		if i < 0 {
			return ""
		}
		rest := line[i+len(key)+3:]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return ""
		}
		return rest[:end]
	}
	verb, url = value("verb"), value("url")
	return verb, url, verb != "" && url != ""
}
