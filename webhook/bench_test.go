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

// BenchmarkValidateHandler is one compliant Pod review through the /validate handler with the
// embedded default set, without TLS: the server's own cost per review.
func BenchmarkValidateHandler(b *testing.B) {
	bun, err := bundle.Load(context.Background(), bundle.Options{Library: library.FS})
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Hook: Validating, Policies: fixedPolicies{bun}, Log: logr.Discard()}
	body := request(b, "pod.json")
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
}
