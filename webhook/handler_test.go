package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	jsonpatchapply "gopkg.in/evanphx/json-patch.v4"

	"github.com/verdict-dev/verdict/policies/bundle"
)

type fixedPolicies struct{ b *bundle.Bundle }

func (f fixedPolicies) Current() *bundle.Bundle { return f.b }

func testBundle(t testing.TB) *bundle.Bundle {
	t.Helper()
	b, err := bundle.Load(context.Background(), bundle.Options{Paths: []string{"testdata/policies.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reviewBody(apiVersion, op, object, oldObject string) string {
	req := `"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","kind":{"group":"apps","version":"v1","kind":"Deployment"},` +
		`"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"dev","name":"web","operation":"` + op + `",` +
		`"userInfo":{"username":"alice","groups":["dev"]}`
	if object != "" {
		req += `,"object":` + object
	}
	if oldObject != "" {
		req += `,"oldObject":` + oldObject
	}
	return `{"apiVersion":"` + apiVersion + `","kind":"AdmissionReview","request":{` + req + `}}`
}

func deploymentJSON(replicas int, labels string) string {
	return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"dev"` + labels + `},"spec":{"replicas":` +
		strings.Repeat("", 0) + itoa(replicas) + `,"template":{"spec":{"containers":[{"name":"c","image":"x:1"}]}}}}`
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

type answer struct {
	status int
	review review
	raw    string
}

func post(t *testing.T, h http.Handler, path, contentType, body string) answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var rv review
	if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil {
		t.Fatalf("the answer is not JSON: %v: %s", err, w.Body.String())
	}
	return answer{status: w.Code, review: rv, raw: w.Body.String()}
}

func TestValidate(t *testing.T) {
	h := &Handler{Hook: Validating, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	tests := []struct {
		name     string
		body     string
		allowed  bool
		code     int32
		message  string
		warnings int
		version  string
	}{
		{name: "allowed with a warning", body: reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(3, ""), ""), allowed: true, warnings: 1},
		{name: "allowed, no warning", body: reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(3, `,"labels":{"owner":"me"}`), ""), allowed: true},
		{name: "denied with the policy's message and reason", body: reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(9, ""), ""),
			code: 403, message: "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas' denied request: replicas must be at most 5, not 9", warnings: 1},
		{name: "v1beta1 is answered in v1beta1", body: reviewBody("admission.k8s.io/v1beta1", "CREATE", deploymentJSON(9, ""), ""), code: 403, message: "not 9", warnings: 1, version: "admission.k8s.io/v1beta1"},
		{name: "DELETE carries only the old object", body: reviewBody("admission.k8s.io/v1", "DELETE", "", deploymentJSON(9, "")), allowed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, h, "/validate?timeout=10s", "application/json", tc.body)
			if a.status != 200 {
				t.Fatalf("HTTP %d: %s", a.status, a.raw)
			}
			resp := a.review.Response
			if resp == nil || resp.UID != "705ab4f5-6393-11e8-b7cc-42010a800002" {
				t.Fatalf("the response does not echo the uid: %s", a.raw)
			}
			want := tc.version
			if want == "" {
				want = "admission.k8s.io/v1"
			}
			if a.review.APIVersion != want || a.review.Kind != "AdmissionReview" {
				t.Errorf("answered as %s %s, want %s AdmissionReview", a.review.APIVersion, a.review.Kind, want)
			}
			if resp.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v: %s", resp.Allowed, tc.allowed, a.raw)
			}
			if !tc.allowed && (resp.Result == nil || resp.Result.Code != tc.code || !strings.Contains(resp.Result.Message, tc.message)) {
				t.Errorf("status = %+v, want code %d and message %q", resp.Result, tc.code, tc.message)
			}
			if len(resp.Warnings) != tc.warnings {
				t.Errorf("warnings = %q, want %d", resp.Warnings, tc.warnings)
			}
			if resp.Patch != nil {
				t.Error("/validate sent a patch")
			}
		})
	}
}

func TestAuditAnnotations(t *testing.T) {
	h := &Handler{Hook: Validating, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	a := post(t, h, "/validate", "application/json", reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(2, ""), ""))
	if got := a.review.Response.AuditAnnotations["owner-label.replicas"]; got != "2" {
		t.Errorf("audit annotations = %v, want owner-label.replicas=2", a.review.Response.AuditAnnotations)
	}
}

func TestMutate(t *testing.T) {
	h := &Handler{Hook: Mutating, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	obj := deploymentJSON(3, "")
	a := post(t, h, "/mutate", "application/json", reviewBody("admission.k8s.io/v1", "CREATE", obj, ""))
	resp := a.review.Response
	if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != "JSONPatch" {
		t.Fatalf("want an allowed JSONPatch response: %s", a.raw)
	}
	p, err := jsonpatchapply.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := p.Apply([]byte(obj))
	if err != nil {
		t.Fatalf("the patch does not apply: %v", err)
	}
	if !bytes.Contains(patched, []byte(`"team":"platform"`)) {
		t.Errorf("patched object %s lacks the label", patched)
	}
	// UPDATE is not matched by the policy: allowed, no patch.
	a = post(t, h, "/mutate", "application/json", reviewBody("admission.k8s.io/v1", "UPDATE", obj, obj))
	if !a.review.Response.Allowed || a.review.Response.Patch != nil {
		t.Errorf("UPDATE: want allowed without a patch: %s", a.raw)
	}
}

func TestBadRequests(t *testing.T) {
	h := &Handler{Hook: Validating, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		message     string
	}{
		{name: "not JSON", contentType: "application/json", body: "hello", status: 400, message: "not a JSON AdmissionReview"},
		{name: "wrong content type", contentType: "application/yaml", body: "{}", status: 415, message: `Content-Type "application/yaml" is not supported`},
		{name: "no content type", body: "{}", status: 415, message: "Content-Type"},
		{name: "empty body", contentType: "application/json", body: "", status: 400, message: "empty"},
		{name: "no request", contentType: "application/json", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, status: 400, message: "has no request"},
		{name: "no uid", contentType: "application/json", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}`, status: 400, message: "has no uid"},
		{name: "unknown API version", contentType: "application/json", body: `{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"x"}}`, status: 400, message: `apiVersion "admission.k8s.io/v2" is not supported`},
		{name: "wrong kind", contentType: "application/json", body: `{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}`, status: 400, message: `kind "Pod" is not AdmissionReview`},
		{name: "bad operation", contentType: "application/json", body: reviewBody("admission.k8s.io/v1", "PATCH", deploymentJSON(1, ""), ""), status: 400, message: `operation "PATCH"`},
		{name: "object not an object", contentType: "application/json", body: reviewBody("admission.k8s.io/v1", "CREATE", "[1,2]", ""), status: 400, message: "request.object is not a JSON object"},
		{name: "no object at all", contentType: "application/json", body: reviewBody("admission.k8s.io/v1", "CREATE", "", ""), status: 400, message: `neither "object" nor "oldObject"`},
		{name: "over 7 MiB", contentType: "application/json", body: `{"x":"` + strings.Repeat("a", MaxRequestBytes) + `"}`, status: 413, message: "over 7340032 bytes"},
		{name: "deep nesting", contentType: "application/json", body: reviewBody("admission.k8s.io/v1", "CREATE", deep, ""), status: 400, message: "exceeded max depth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, h, "/validate", tc.contentType, tc.body)
			if a.status != tc.status {
				t.Errorf("HTTP %d, want %d: %s", a.status, tc.status, a.raw)
			}
			if a.review.Response == nil || a.review.Response.Allowed || !strings.Contains(a.review.Response.Result.Message, tc.message) {
				t.Errorf("answer %s does not refuse with %q", bound(a.raw, 300), tc.message)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/validate", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", w.Code)
	}
}

func TestNotLoaded(t *testing.T) {
	h := &Handler{Hook: Validating, Policies: fixedPolicies{nil}, Log: logr.Discard()}
	a := post(t, h, "/validate", "application/json", reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(1, ""), ""))
	if a.status != http.StatusServiceUnavailable {
		t.Errorf("HTTP %d, want 503 before the policies are loaded", a.status)
	}
}

func TestEvaluationErrorFailsClosed(t *testing.T) {
	b, err := bundle.Load(context.Background(), bundle.Options{Paths: []string{"testdata/conflict.rego"}})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Hook: Validating, Policies: fixedPolicies{b}, Log: logr.Discard()}
	a := post(t, h, "/validate", "application/json", reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(1, ""), ""))
	if a.review.Response.Allowed || a.review.Response.Result.Code != 500 || !strings.Contains(a.review.Response.Result.Message, "policy evaluation failed") {
		t.Errorf("want a denial for the evaluation error: %s", a.raw)
	}
}

func FuzzDecodeReview(f *testing.F) {
	f.Add([]byte(reviewBody("admission.k8s.io/v1", "CREATE", deploymentJSON(3, ""), "")))
	f.Add([]byte(reviewBody("admission.k8s.io/v1beta1", "DELETE", "", deploymentJSON(3, ""))))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{"a":[1,{"b":null}]}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rv, rerr := decodeReview(body)
		if rerr != nil {
			if rerr.status < 400 || rerr.status > 499 || rerr.err.Error() == "" {
				t.Fatalf("refusal without a 4xx and a message: %d %v", rerr.status, rerr.err)
			}
			return
		}
		if _, rerr := toRequest(rv.Request); rerr != nil && (rerr.status < 400 || rerr.status > 499) {
			t.Fatalf("refusal without a 4xx: %d", rerr.status)
		}
	})
}
