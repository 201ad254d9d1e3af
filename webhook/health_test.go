package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthSaysWhy(t *testing.T) {
	mux := http.NewServeMux()
	failing := errors.New("the API server cannot be reached:\nconnection refused")
	installHealth(mux, "readyz", ping, check{name: "cluster-policies", fn: func() error { return failing }})
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/readyz", 500, "[+]ping ok\n[-]cluster-policies failed: the API server cannot be reached: connection refused\nreadyz check failed\n"},
		{"/readyz?verbose", 500, "[+]ping ok\n[-]cluster-policies failed: the API server cannot be reached: connection refused\nreadyz check failed\n"},
		{"/readyz?exclude=cluster-policies", 200, "ok"},
		{"/readyz?verbose&exclude=cluster-policies", 200, "[+]ping ok\n[+]cluster-policies excluded: ok\nreadyz check passed\n"},
		{"/readyz/ping", 200, "ok"},
		{"/readyz/cluster-policies", 500, "[-]cluster-policies failed: the API server cannot be reached: connection refused\nreadyz/cluster-policies check failed\n"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if w.Code != tc.code || w.Body.String() != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, w.Code, w.Body.String(), tc.code, tc.body)
		}
	}
}
