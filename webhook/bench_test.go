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
	body := request(b, "pod.json")
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			bun, err := bundle.Load(context.Background(), set.opts)
			if err != nil {
				b.Fatal(err)
			}
			h := &handler{Hook: validatingHook, Policies: fixedPolicies{bun}, Log: logr.Discard()}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodPost, "/validate?timeout=10s", strings.NewReader(body))
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
