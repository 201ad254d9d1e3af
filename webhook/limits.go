package webhook

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/semaphore"
)

// The bounds on what one request may take, each next to its reason.
const (
	// defaultReadTimeout bounds the time from the start of a request (its headers read) to the end
	// of its body. The API server sends a review in one write; a client that trickles its body holds
	// a connection and a buffer for nothing.
	defaultReadTimeout = 10 * time.Second
	// maxTimeout is the largest ?timeout= the handler honours: the API server refuses a webhook
	// timeoutSeconds over 30 (admissionregistration validation), so a larger one is not from it.
	maxTimeout = 30 * time.Second
	// defaultInFlightBytes bounds the bodies of the requests being answered at once. A decoded review
	// takes a few times its body, so this keeps a burst of large reviews within a few hundred MiB.
	defaultInFlightBytes = 64 << 20
	// retryAfter is what a request refused for the in-flight bound is told to wait, in seconds.
	retryAfter = 1
)

// inFlightBound bounds the memory of the requests being answered at once, by their body sizes: a request
// weighs its Content-Length (the most a body may be, when it sends none) from before its body is
// read until its answer is written. A request that does not fit is answered 429 at once rather than
// queued, so that a burst of large reviews gets retries (or the API server's failurePolicy) instead
// of the process being killed for memory. The handlers of one server share one.
type inFlightBound struct {
	sem *semaphore.Weighted
}

// newInFlightBound returns a bound of n bytes.
func newInFlightBound(n int64) *inFlightBound {
	return &inFlightBound{sem: semaphore.NewWeighted(n)}
}

// acquire takes n bytes if they fit now; a nil bound always fits.
func (f *inFlightBound) acquire(n int64) bool {
	return f == nil || f.sem.TryAcquire(n)
}

func (f *inFlightBound) release(n int64) {
	if f != nil {
		f.sem.Release(n)
	}
}

// tooManyRequests refuses a request for the in-flight bound, telling it when to come back.
func tooManyRequests(w http.ResponseWriter) *requestError {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	return &requestError{status: http.StatusTooManyRequests,
		err: fmt.Errorf("too many requests in flight: retry in %ds", retryAfter)}
}
