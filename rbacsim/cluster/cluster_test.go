package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// fakeAPI serves the lists Read asks for: ClusterRoles in two pages, one RoleBinding, no other
// RBAC objects, and CRDs as given (status 403 when crdStatus says so).
func fakeAPI(t *testing.T, crdStatus int) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("limit") == "" {
			t.Errorf("%s: no limit", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		rbac := "rbac.authorization.k8s.io/v1"
		body := ""
		switch r.URL.Path {
		case "/apis/rbac.authorization.k8s.io/v1/clusterroles":
			if r.URL.Query().Get("continue") == "" {
				body = `{"kind":"ClusterRoleList","apiVersion":"` + rbac + `","metadata":{"continue":"page2"},"items":[{"metadata":{"name":"reader","uid":"1","resourceVersion":"7"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}]}`
			} else {
				body = `{"kind":"ClusterRoleList","apiVersion":"` + rbac + `","metadata":{},"items":[{"metadata":{"name":"writer"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["create"]}]}]}`
			}
		case "/apis/rbac.authorization.k8s.io/v1/rolebindings":
			body = `{"kind":"RoleBindingList","apiVersion":"` + rbac + `","metadata":{},"items":[{"metadata":{"name":"b","namespace":"ns"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"writer"},"subjects":[{"kind":"ServiceAccount","name":"sa"}]}]}`
		case "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "/apis/rbac.authorization.k8s.io/v1/roles":
			kind := "ClusterRoleBinding"
			if strings.HasSuffix(r.URL.Path, "/roles") {
				kind = "Role"
			}
			body = `{"kind":"` + kind + `List","apiVersion":"` + rbac + `","metadata":{},"items":[]}`
		case "/apis/apiextensions.k8s.io/v1/customresourcedefinitions":
			if crdStatus != http.StatusOK {
				w.WriteHeader(crdStatus)
				body = `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"customresourcedefinitions is forbidden"}`
				break
			}
			body = `{"kind":"CustomResourceDefinitionList","apiVersion":"apiextensions.k8s.io/v1","metadata":{},"items":[{"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wd"]},"versions":[{"name":"v1","served":true,"storage":true}]}}]}`
		default:
			t.Errorf("unexpected request %s", r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(body))
	}))
}

func TestRead(t *testing.T) {
	tests := []struct {
		name      string
		crdStatus int
		crds      int
		note      string
	}{
		{name: "with CRDs", crdStatus: http.StatusOK, crds: 1},
		{name: "CRDs forbidden", crdStatus: http.StatusForbidden, note: "customresourcedefinitions: not readable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeAPI(t, tt.crdStatus)
			defer srv.Close()
			objs, err := Read(context.Background(), &rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if len(objs.ClusterRoles) != 2 || len(objs.RoleBindings) != 1 || len(objs.CRDs) != tt.crds {
				t.Fatalf("read %d ClusterRoles, %d RoleBindings, %d CRDs; want 2, 1, %d", len(objs.ClusterRoles), len(objs.RoleBindings), len(objs.CRDs), tt.crds)
			}
			// The second page is the second document of the list's source.
			if got, want := objs.Sources[objs.ClusterRoles[1]].String(), srv.URL+"/apis/rbac.authorization.k8s.io/v1/clusterroles:3: document 2, items[0]"; got != want {
				t.Errorf("source = %q, want %q", got, want)
			}
			if b := objs.RoleBindings[0]; b.Namespace != "ns" || b.Subjects[0].Namespace != "" {
				t.Errorf("RoleBinding read as %s/%s with subjects %v", b.Namespace, b.Name, b.Subjects)
			}
			notes := strings.Join(objs.Notes, "\n")
			if tt.note == "" && notes != "" || !strings.Contains(notes, tt.note) {
				t.Errorf("notes = %q, want %q", notes, tt.note)
			}
		})
	}
}

func TestReadRBACForbidden(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"clusterroles is forbidden: User \"u\" cannot list"}`))
	}))
	defer srv.Close()
	_, err := Read(context.Background(), &rest.Config{Host: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "clusterroles is forbidden") {
		t.Fatalf("err = %v, want the API server's refusal", err)
	}
}
