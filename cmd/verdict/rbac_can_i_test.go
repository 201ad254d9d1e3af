package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRBACCanIRequest(t *testing.T) {
	rbac := rbacData + "rbac.yaml"
	builder := "system:serviceaccount:team-a:builder"
	tests := []canICase{
		{"watch", []string{"--request", "GET /apis/apps/v1/namespaces/team-a/deployments?watch=1", "--as", builder}, 0, "watch deployments.apps -n team-a\nyes\n", ""},
		{"legacy watch prefix", []string{"--request", "GET /apis/apps/v1/watch/namespaces/team-b/deployments", "--as", builder}, 1, "watch deployments.apps -n team-b\nno\n", ""},
		{"deletecollection", []string{"--request", "DELETE /api/v1/namespaces/team-a/pods", "--as", builder}, 1, "deletecollection pods -n team-a\nno\n", ""},
		{"field selector names the object", []string{"--request", "GET /api/v1/namespaces/team-a/configmaps?fieldSelector=metadata.name%3Dsettings", "--as", "system:serviceaccount:default:read-only-user"}, 1, "list configmaps/settings -n team-a\nno\n", ""},
		{"subresource", []string{"--request", "PUT /apis/apps/v1/namespaces/team-a/deployments/web/scale", "--as", "system:serviceaccount:default:read-only-user"}, 0, "update deployments.apps/web --subresource scale -n team-a\nyes\n", ""},
		{"full URL", []string{"--request", "GET https://127.0.0.1:6443/api/v1/namespaces/team-a/pods?limit=500", "--as", builder}, 0, "list pods -n team-a\nyes\n", ""},
		{"non-resource URL", []string{"--request", "GET /healthz?verbose", "--as", "alice", "--with-defaults"}, 0, "get /healthz\nyes\n", ""},
		{"quiet yes", []string{"-q", "--request", "GET /api/v1/namespaces/team-a/pods", "--as", builder}, 0, "", ""},
		{"quiet no", []string{"--quiet", "list", "pods", "-n", "team-b", "--as", builder}, 1, "", ""},
		{"quiet keeps warnings", []string{"-q", "frobnicate", "pods", "-n", "team-a", "--as", "alice"}, 1, "", "Warning: verb 'frobnicate' is not a known verb"},
		{"bad line", []string{"--request", "GET", "--as", "alice"}, 2, "", `error: request "GET": expected METHOD PATH[?QUERY]`},
		{"lower-case method", []string{"--request", "get /api/v1/pods", "--as", "alice"}, 2, "", "HTTP methods are upper case, such as GET"},
		{"unresolvable", []string{"--request", "GET /api/v1/watch", "--as", "alice"}, 2, "", "the API server cannot resolve it (it answers 500)"},
		{"request with arguments", []string{"--request", "GET /api/v1/pods", "get", "pods", "--as", "alice"}, 2, "", "--request takes no arguments"},
		{"request with -n", []string{"--request", "GET /api/v1/pods", "-n", "x", "--as", "alice"}, 2, "", "-n and -A cannot be used with it"},
		{"request with --subresource", []string{"--request", "GET /api/v1/pods", "--subresource", "log", "--as", "alice"}, 2, "", "--subresource cannot be used with it"},
		{"request without --as", []string{"--request", "GET /api/v1/pods"}, 2, "", "--as USER is required"},
		{"no-headers without --list", []string{"--no-headers", "get", "pods", "--as", "alice"}, 2, "", "--no-headers cannot be set without --list specified"},
		{"quiet with --list", []string{"-q", "--list", "--as", "alice"}, 2, "", "--list cannot be used with -q"},
		{"json with --explain", []string{"-o", "json", "--explain", "get", "pods", "--as", "alice"}, 2, "", "--explain cannot be used with -o json"},
		{"bad output", []string{"-o", "yaml", "get", "pods", "--as", "alice"}, 2, "", `unknown output format "yaml"`},
	}
	runCanI(t, rbac, tests)
}

func TestRBACCanIJSONGolden(t *testing.T) {
	rbac := rbacData + "rbac.yaml"
	tests := []struct {
		golden string
		code   int
		args   []string
	}{
		{"can-i-request-watch.json", 0, []string{"--request", "GET /apis/apps/v1/namespaces/team-a/deployments?watch=1", "--as", "system:serviceaccount:team-a:builder"}},
		{"can-i-request-denied.json", 1, []string{"--request", "DELETE /apis/apps/v1/namespaces/team-a/deployments/web", "--as", "system:serviceaccount:default:read-only-user"}},
		{"can-i-request-url.json", 0, []string{"--request", "GET /healthz", "--as", "alice", "--with-defaults"}},
		{"can-i-args.json", 0, []string{"update", "deployments.apps/web", "--subresource", "scale", "-n", "team-a", "--as", "system:serviceaccount:default:read-only-user"}},
		{"can-i-masters.json", 0, []string{"--request", "DELETE /api/v1/nodes/n1", "--as", "root", "--as-group", "system:masters"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			args := append([]string{"rbac", "can-i", "-o", "json", "-f", rbac}, tt.args...)
			code, out, errOut := runCLI(t, "", args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			var fields map[string]any
			if err := json.Unmarshal([]byte(out), &fields); err != nil {
				t.Fatalf("output is not JSON: %v: %q", err, out)
			}
			for _, k := range []string{"allowed", "verb", "apiGroup", "resource", "subresource", "namespace", "name", "path", "resourceRequest", "reason"} {
				if _, ok := fields[k]; !ok {
					t.Errorf("no %q in %s", k, out)
				}
			}
			if len(fields) != 10 {
				t.Errorf("%d fields, want 10: %s", len(fields), out)
			}
			goldenRBAC(t, tt.golden, out)
		})
	}
}

// --no-headers reaches kubectl's own list printer, which leaves out the header line.
func TestRBACCanIListNoHeaders(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rbac", "can-i", "--list", "--no-headers", "-n", "team-a", "--as", "system:serviceaccount:team-a:builder", "-f", rbacData+"rbac.yaml")
	if code != 0 {
		t.Errorf("exit %d (stderr %q)", code, errOut)
	}
	if strings.Contains(out, "Resources") {
		t.Errorf("a header line in %q", out)
	}
	goldenRBAC(t, "list-builder-no-headers.txt", out)
}
