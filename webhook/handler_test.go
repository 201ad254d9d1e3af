package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	jsonpatchapply "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/verdict-dev/verdict/internal/testkit"
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

// request is the AdmissionReview in testdata/requests/NAME, compacted as the API server sends it.
func request(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "requests", name))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return compact.String()
}

// createReview is testdata/requests/create.json, the CREATE of a Deployment, with that many replicas.
func createReview(t testing.TB, replicas int) string {
	t.Helper()
	var rv map[string]any
	if err := json.Unmarshal([]byte(request(t, "create.json")), &rv); err != nil {
		t.Fatal(err)
	}
	rv["request"].(map[string]any)["object"].(map[string]any)["spec"].(map[string]any)["replicas"] = replicas
	b, err := json.Marshal(rv)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

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

// TestReviews posts each AdmissionReview (testdata/requests, or a body made here where it is not one)
// and compares the answer with testdata/responses/NAME.json: its version, the uid it echoes, allowed,
// the status's code, reason and message, the warnings, the audit annotations and the patch.
// go test -update rewrites the responses.
func TestReviews(t *testing.T) {
	loaded := testBundle(t)
	conflict, err := bundle.Load(context.Background(), bundle.Options{Paths: []string{"testdata/conflict.rego"}})
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	tests := []struct {
		name        string         // of the response, testdata/responses/NAME.json
		hook        hook           // Validating unless set
		policies    *bundle.Bundle // the set in force: loaded unless noSet
		noSet       bool           // no set is in force yet
		request     string         // a file in testdata/requests, or
		body        string         // the body
		contentType string         // application/json unless set; "-" for none
		status      int            // HTTP
		patchAdds   string         // the patch, applied to the request's object, gives an object containing this
	}{
		{name: "allowed-with-a-warning", request: "create.json", status: 200},
		{name: "allowed-no-warning", request: "create-owner.json", status: 200},
		{name: "denied-with-the-policys-message-and-reason", request: "create-9.json", status: 200},
		{name: "v1beta1-is-answered-in-v1beta1", request: "create-9-v1beta1.json", status: 200},
		{name: "delete-carries-only-the-old-object", request: "delete.json", status: 200},
		{name: "audit-annotations", request: "create-2.json", status: 200},
		{name: "mutate-create", hook: mutatingHook, request: "create.json", status: 200, patchAdds: `"team":"platform"`},
		{name: "mutate-update-not-matched", hook: mutatingHook, request: "update.json", status: 200},
		{name: "not-json", body: "hello", status: 400},
		{name: "wrong-content-type", contentType: "application/yaml", body: "{}", status: 415},
		{name: "no-content-type", contentType: "-", body: "{}", status: 415},
		{name: "empty-body", body: "", status: 400},
		{name: "no-request", request: "no-request.json", status: 400},
		{name: "no-uid", request: "no-uid.json", status: 400},
		{name: "unknown-api-version", request: "v2.json", status: 400},
		{name: "wrong-kind", request: "wrong-kind.json", status: 400},
		{name: "bad-operation", request: "patch-operation.json", status: 400},
		{name: "object-not-an-object", request: "object-not-an-object.json", status: 400},
		{name: "no-object-at-all", request: "no-object.json", status: 400},
		{name: "over-7-mib", body: `{"x":"` + strings.Repeat("a", maxRequestBytes) + `"}`, status: 413},
		{name: "deep-nesting", body: strings.Replace(request(t, "no-object.json"), `"request":{`, `"request":{"object":`+deep+`,`, 1), status: 400},
		{name: "not-loaded", noSet: true, request: "create-1.json", status: 503},
		{name: "evaluation-error-fails-closed", policies: conflict, request: "create-1.json", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &handler{Hook: cmp.Or(tc.hook, validatingHook), Policies: fixedPolicies{loaded}, Log: logr.Discard()}
			switch {
			case tc.noSet:
				h.Policies = fixedPolicies{nil}
			case tc.policies != nil:
				h.Policies = fixedPolicies{tc.policies}
			}
			path := "/validate?timeout=10s"
			if h.Hook == mutatingHook {
				path = "/mutate"
			}
			body := tc.body
			if tc.request != "" {
				body = request(t, tc.request)
			}
			contentType := cmp.Or(tc.contentType, "application/json")
			if contentType == "-" {
				contentType = ""
			}
			a := post(t, h, path, contentType, body)
			if a.status != tc.status {
				t.Errorf("HTTP %d, want %d: %s", a.status, tc.status, bound(a.raw, 300))
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, []byte(a.raw), "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			testkit.Golden(t, filepath.Join("testdata", "responses", tc.name+".json"), indented.Bytes())
			if tc.patchAdds != "" {
				var rv admissionv1.AdmissionReview
				if err := json.Unmarshal([]byte(body), &rv); err != nil {
					t.Fatal(err)
				}
				p, err := jsonpatchapply.DecodePatch(a.review.Response.Patch)
				if err != nil {
					t.Fatal(err)
				}
				patched, err := p.Apply(rv.Request.Object.Raw)
				if err != nil {
					t.Fatalf("the patch does not apply: %v", err)
				}
				if !bytes.Contains(patched, []byte(tc.patchAdds)) {
					t.Errorf("patched object %s lacks %s", patched, tc.patchAdds)
				}
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/validate", nil)
	w := httptest.NewRecorder()
	(&handler{Hook: validatingHook, Policies: fixedPolicies{loaded}, Log: logr.Discard()}).ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", w.Code)
	}
}

func FuzzDecodeReview(f *testing.F) {
	f.Add([]byte(request(f, "create.json")))
	f.Add([]byte(request(f, "delete.json")))
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
