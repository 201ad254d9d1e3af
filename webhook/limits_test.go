package webhook

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

func TestStatusReasons(t *testing.T) {
	loaded := &handler{Hook: validatingHook, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	unloaded := &handler{Hook: validatingHook, Policies: fixedPolicies{nil}, Log: logr.Discard()}
	ok := createReview(t, 1)
	tests := []struct {
		name        string
		h           *handler
		method      string
		contentType string
		body        string
		status      int
		reason      metav1.StatusReason
	}{
		{name: "not JSON", h: loaded, contentType: "application/json", body: "hello", status: 400, reason: metav1.StatusReasonBadRequest},
		{name: "GET", h: loaded, method: http.MethodGet, status: 405, reason: metav1.StatusReasonMethodNotAllowed},
		{name: "YAML", h: loaded, contentType: "application/yaml", body: "{}", status: 415, reason: metav1.StatusReasonUnsupportedMediaType},
		{name: "too large", h: loaded, contentType: "application/json", body: strings.Repeat(" ", maxRequestBytes+1), status: 413, reason: metav1.StatusReasonRequestEntityTooLarge},
		{name: "no policy set yet", h: unloaded, contentType: "application/json", body: ok, status: 503, reason: metav1.StatusReasonServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(cmp.Or(tc.method, http.MethodPost), "/validate", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			var rv review
			if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil {
				t.Fatalf("the answer is not JSON: %v", err)
			}
			if w.Code != tc.status || rv.Response == nil || rv.Response.Allowed || rv.Response.Result.Code != int32(tc.status) || rv.Response.Result.Reason != tc.reason {
				t.Errorf("HTTP %d %s, want %d with code %d and reason %s", w.Code, bound(w.Body.String(), 300), tc.status, tc.status, tc.reason)
			}
		})
	}
}

// endless is a body of spaces that counts what is read of it.
type endless struct{ read atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read.Add(int64(len(p)))
	return len(p), nil
}

func TestTooLargeRefusedBeforeReading(t *testing.T) {
	h := &handler{Hook: validatingHook, Policies: fixedPolicies{testBundle(t)}, Log: logr.Discard()}
	body := &endless{}
	r := httptest.NewRequest(http.MethodPost, "/validate", io.LimitReader(body, maxRequestBytes+1))
	r.ContentLength = maxRequestBytes + 1
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("HTTP %d, want 413", w.Code)
	}
	if n := body.read.Load(); n != 0 {
		t.Errorf("%d bytes of the body were read before refusing it by its Content-Length", n)
	}
}

func TestBodyBufferSizedFromContentLength(t *testing.T) {
	const size = 4 << 20
	r := httptest.NewRequest(http.MethodPost, "/validate", io.LimitReader(&endless{}, size))
	r.ContentLength = size
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, rerr := readBody(r, maxRequestBytes)
	runtime.ReadMemStats(&after)
	if rerr != nil || len(body) != size {
		t.Fatalf("read %d bytes, %v", len(body), rerr)
	}
	// io.ReadAll grows its buffer by doubling: about twice the body in all.
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/4 {
		t.Errorf("reading a %d-byte body allocated %d bytes; want one buffer of its size", size, got)
	}
}

// blockingPolicies holds every request in Current until release is closed.
type blockingPolicies struct {
	b       *bundle.Bundle
	entered chan struct{}
	release chan struct{}
}

func (p *blockingPolicies) Current() *bundle.Bundle {
	p.entered <- struct{}{}
	<-p.release
	return p.b
}

func TestInFlightBound(t *testing.T) {
	body := createReview(t, 1)
	p := &blockingPolicies{b: testBundle(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	// Room for one review, not two.
	h := &handler{Hook: validatingHook, Policies: p, Log: logr.Discard(), InFlight: newInFlightBound(int64(len(body)) * 3 / 2)}
	first := make(chan answer, 1)
	go func() { first <- post(t, h, "/validate", "application/json", body) }()
	<-p.entered

	r := httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var rv review
	_ = json.Unmarshal(w.Body.Bytes(), &rv)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || rv.Response == nil || rv.Response.Allowed ||
		rv.Response.Result.Reason != metav1.StatusReasonTooManyRequests {
		t.Errorf("a second review beyond the bound: HTTP %d, Retry-After %q, %s; want 429 TooManyRequests with Retry-After 1",
			w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}

	close(p.release)
	if a := <-first; a.status != 200 || !a.review.Response.Allowed {
		t.Errorf("the first review: HTTP %d %s", a.status, a.raw)
	}
	// Its bytes are given back once it is answered.
	p.entered = make(chan struct{}, 1)
	if a := post(t, h, "/validate", "application/json", body); a.status != 200 {
		t.Errorf("a review after the first was answered: HTTP %d %s", a.status, a.raw)
	}
}

func TestTimeoutClamped(t *testing.T) {
	tests := []struct {
		query string
		want  time.Duration
	}{
		{"", policies.DefaultTimeout - deadlineMargin},
		{"?timeout=5s", 5*time.Second - deadlineMargin},
		{"?timeout=30s", maxTimeout - deadlineMargin},
		{"?timeout=10m", maxTimeout - deadlineMargin},
		{"?timeout=-1s", policies.DefaultTimeout - deadlineMargin},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodPost, "/validate"+tc.query, nil)
		if got := evaluationTimeout(r); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}
}

type panickingPolicies struct{}

func (panickingPolicies) Current() *bundle.Bundle { panic("a bug") }

func TestPanicFailsClosed(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	h := &handler{Hook: validatingHook, Policies: panickingPolicies{}, Log: logr.Discard(), Metrics: m}
	a := post(t, h, "/validate", "application/json", createReview(t, 1))
	resp := a.review.Response
	if a.status != 500 || resp == nil || resp.Allowed || resp.Result.Code != 500 || resp.Result.Reason != metav1.StatusReasonInternalError ||
		resp.UID != "705ab4f5-6393-11e8-b7cc-42010a800002" {
		t.Errorf("a panic: HTTP %d %s; want a denial with code 500, InternalError and the request's uid", a.status, a.raw)
	}
	if got := counter(t, reg, "verdict_admission_panics_total"); got != 1 {
		t.Errorf("verdict_admission_panics_total = %v, want 1", got)
	}
}

func TestSlowBodyReadDeadline(t *testing.T) {
	// Through the whole server, so that the deadline is known to reach the connection through
	// controller-runtime's wrappers.
	r := start(t, func(o *Options) { o.ReadTimeout = 300 * time.Millisecond })
	body := createReview(t, 1)
	// A raw connection, which sends half the body and then nothing: an http.Client would not return
	// before it has sent the whole body.
	conn, err := tls.Dial("tcp", r.webhook, r.client.Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // the test's own bound, far over the server's
	fmt.Fprintf(conn, "POST /validate HTTP/1.1\r\nHost: verdict\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a body sent too slowly: %v", err)
	}
	defer resp.Body.Close()
	var rv review
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || rv.Response == nil || rv.Response.Allowed || rv.Response.Result.Reason != metav1.StatusReasonTimeout {
		t.Errorf("HTTP %d %+v, want 408 Timeout", resp.StatusCode, rv.Response)
	}
	// The deadline is the request's, not the connection's: the next request is answered.
	if !r.admit(t, 1) {
		t.Error("a review after the slow one was not allowed")
	}
}

// counter sums the samples of a counter of reg.
func counter(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// FuzzReadReview sends the /validate handler bodies of any bytes with any Content-Length (negative:
// none, as a chunked body), under a small size bound and in-flight bound: every answer is an
// AdmissionReview that refuses unless it is a 200, with the reason of its code, and every request
// gives back its in-flight bytes.
func FuzzReadReview(f *testing.F) {
	good := request(f, "create.json")
	const limit = 4 << 10
	f.Add([]byte(good), int64(len(good)))
	f.Add([]byte(good), int64(-1))                         // chunked
	f.Add([]byte(good), int64(len(good)+10))               // shorter than it says
	f.Add([]byte(good), int64(len(good)/2))                // longer than it says
	f.Add([]byte(good), int64(limit+1))                    // over the bound by its Content-Length
	f.Add([]byte(strings.Repeat(" ", limit+1)), int64(-1)) // over the bound, chunked
	f.Add([]byte{}, int64(0))
	f.Add([]byte(`{}`), int64(2))
	inFlight := newInFlightBound(2 * limit)
	h := &handler{Hook: validatingHook, Policies: fixedPolicies{testBundle(f)}, Log: logr.Discard(), InFlight: inFlight, maxBody: limit}
	f.Fuzz(func(t *testing.T, body []byte, contentLength int64) {
		r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.ContentLength = max(contentLength, -1)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var rv review
		if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil || rv.Response == nil || rv.Response.Result == nil && w.Code != 200 {
			t.Fatalf("HTTP %d: the answer is no AdmissionReview: %v %s", w.Code, err, w.Body.String())
		}
		if w.Code != 200 && (rv.Response.Allowed || rv.Response.Result.Code != int32(w.Code) || rv.Response.Result.Reason != statusReason(w.Code)) {
			t.Fatalf("HTTP %d answered %+v", w.Code, rv.Response)
		}
		if contentLength > limit && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("Content-Length %d over %d: HTTP %d, want 413", contentLength, limit, w.Code)
		}
		if !inFlight.acquire(2 * limit) {
			t.Fatal("the request kept in-flight bytes after its answer")
		}
		inFlight.release(2 * limit)
	})
}
