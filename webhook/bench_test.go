package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/library"
)

const benchPodReview = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},` +
	`"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"team-a","name":"app","operation":"CREATE","userInfo":{"username":"load"},` +
	`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"app","namespace":"team-a","labels":{"app.kubernetes.io/name":"app"}},` +
	`"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"app","image":"registry.example.com/app:1.2",` +
	`"resources":{"limits":{"memory":"256Mi","cpu":"500m"},"requests":{"cpu":"100m","memory":"128Mi"}},` +
	`"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}`

// BenchmarkValidateHandler is one compliant Pod review through the /validate handler, without TLS:
// the server's own cost per review, with the embedded default set and with the load test's rule
// in each format.
func BenchmarkValidateHandler(b *testing.B) {
	sets := []struct {
		name string
		opts bundle.Options
	}{
		{"default", bundle.Options{Library: library.FS}},
		{"vap", bundle.Options{Paths: []string{"../test/load/testdata/vap.yaml"}}},
		{"gatekeeper", bundle.Options{Paths: []string{"../test/load/testdata/gatekeeper.yaml"}}},
		{"rego", bundle.Options{Paths: []string{"../test/load/testdata/admission.rego"}}},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			bun, err := bundle.Load(context.Background(), set.opts)
			if err != nil {
				b.Fatal(err)
			}
			h := &Handler{Hook: Validating, Policies: fixedPolicies{bun}, Log: logr.Discard()}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodPost, "/validate?timeout=10s", strings.NewReader(benchPodReview))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 || !strings.Contains(w.Body.String(), `"allowed":true`) {
					b.Fatalf("%d %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
