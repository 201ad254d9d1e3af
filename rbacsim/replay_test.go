package rbacsim

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// An audit event records the verb and the request URI, not the method: EventAttributes must find
// back the attributes of the request line, for every verb.
func TestEventAttributes(t *testing.T) {
	lines := []string{
		"GET /api/v1/namespaces/x/pods", "GET /api/v1/namespaces/x/pods/web", "HEAD /api/v1/namespaces/x/pods/web",
		"GET /api/v1/namespaces/x/pods?watch=1", "GET /api/v1/watch/namespaces/x/pods/web", "POST /api/v1/watch/nodes",
		"DELETE /api/v1/namespaces/x/pods", "DELETE /api/v1/namespaces/x/pods/web", "GET /api/v1/pods?fieldSelector=metadata.name%3Dweb",
		"POST /api/v1/namespaces/x/pods/web/exec?command=ls", "PUT /apis/apps/v1/namespaces/x/deployments/web/scale",
		"PATCH /apis/apps/v1/namespaces/x/deployments/web", "GET /api/v1/proxy/namespaces/x/pods/web/metrics",
		"PUT /api/v1/proxy/nodes/n1", "OPTIONS /api/v1/namespaces/x/pods", "GET /healthz", "HEAD /readyz", "POST /logs/x",
		"DELETE /x", "OPTIONS /version",
	}
	for _, line := range lines {
		t.Run(line, func(t *testing.T) {
			want, err := ParseRequest(line)
			if err != nil {
				t.Fatal(err)
			}
			_, uri, _ := strings.Cut(line, " ")
			ev := &auditv1.Event{Verb: want.Verb, RequestURI: uri, User: authnv1.UserInfo{Username: "admin"},
				ImpersonatedUser: &authnv1.UserInfo{Username: "alice", Groups: []string{"dev"}}}
			if want.ResourceRequest {
				ev.ObjectRef = &auditv1.ObjectReference{Resource: want.Resource}
			}
			got, err := EventAttributes(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got.User.GetName() != "alice" || !cmp.Equal(got.User.GetGroups(), []string{"dev"}) {
				t.Errorf("user %v, want the impersonated alice", got.User)
			}
			if diff := cmp.Diff(attrsOf(want), attrsOf(got)); diff != "" {
				t.Errorf("(-ParseRequest +EventAttributes):\n%s", diff)
			}
		})
	}
}

// Without a request URI, an event is taken from its verb and objectRef.
func TestEventAttributesWithoutURI(t *testing.T) {
	ev := &auditv1.Event{Verb: "list", User: authnv1.UserInfo{Username: "bob"},
		ObjectRef: &auditv1.ObjectReference{APIGroup: "apps", APIVersion: "v1", Resource: "deployments", Namespace: "x"}}
	got, err := EventAttributes(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := attrs{Resource: true, Verb: "list", Group: "apps", Version: "v1", Res: "deployments", Namespace: "x"}
	if diff := cmp.Diff(want, attrsOf(got)); diff != "" || got.User.GetName() != "bob" {
		t.Errorf("user %v, (-want +got):\n%s", got.User, diff)
	}
}
