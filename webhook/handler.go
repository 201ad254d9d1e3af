package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-logr/logr"
	jsonpatchapply "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// policySource gives the handler the policy set in force. It may change between requests.
type policySource interface {
	Current() *bundle.Bundle
}

// hook says which admission a handler answers: the validating or the mutating webhook.
type hook string

// The two webhooks.
const (
	validatingHook hook = "validate"
	mutatingHook   hook = "mutate"
)

// deadlineMargin is kept between the end of an evaluation and the API server's timeout, so that a
// slow policy gets an answer from verdict rather than a timeout from the API server.
const deadlineMargin = 500 * time.Millisecond

// handler answers AdmissionReviews for one kind of admission.
type handler struct {
	Hook     hook
	Policies policySource
	Log      logr.Logger
	Metrics  *metrics
	// InFlight bounds the bodies of the requests answered at once; the handlers of a server share
	// one. Nil sets no bound.
	InFlight *inFlightBound
	// ReadTimeout bounds the time from the start of a request to the end of its body;
	// 10 s (defaultReadTimeout) when zero.
	ReadTimeout time.Duration

	maxBody int64 // maxRequestBytes when zero; tests set less
}

var _ http.Handler = (*handler)(nil)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var rv *review
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // net/http's own way to abort a response
			}
			h.panicked(w, rv, p, start)
		}
	}()
	rv, release, rerr := h.read(w, r, start)
	defer release()
	if rerr != nil {
		h.fail(w, rv, rerr, start)
		return
	}
	req, rerr := toRequest(rv.Request)
	if rerr != nil {
		h.fail(w, rv, rerr, start)
		return
	}
	b := h.Policies.Current()
	if b == nil {
		h.fail(w, rv, &requestError{status: http.StatusServiceUnavailable, err: errors.New("no policy set is loaded yet")}, start)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), evaluationTimeout(r))
	defer cancel()
	if h.Metrics != nil {
		ctx = policies.WithObserver(ctx, h.Metrics.observer())
	}

	var resp admission.Response
	var decision string
	if h.Hook == mutatingHook {
		resp, decision = h.mutate(ctx, b, req)
	} else {
		resp, decision = h.validate(ctx, b, req)
	}
	resp.UID = rv.Request.UID
	if decision == "denied" || decision == "error" {
		h.Log.Info("denied", "webhook", string(h.Hook), "uid", req.UID, "kind", req.Kind.Kind, "namespace", req.Namespace,
			"name", req.Name, "operation", req.Operation, "user", userName(req), "dryRun", req.DryRun, "message", resp.Result.Message)
	} else if h.Log.V(1).Enabled() {
		h.Log.V(1).Info("admitted", "webhook", string(h.Hook), "uid", req.UID, "kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "decision", decision)
	}
	h.Metrics.observe(h.Hook, decision, time.Since(start))
	writeReview(w, http.StatusOK, rv.APIVersion, &resp.AdmissionResponse)
}

// read reads the review of a request within the server's bounds: its headers are checked before
// its body is read, its size is taken from the in-flight bound (released by the returned func, once
// the answer is written), and its body must arrive within the read timeout.
func (h *handler) read(w http.ResponseWriter, r *http.Request, start time.Time) (*review, func(), *requestError) {
	// The deadline runs from the start of the request, not from each read: a body trickled one byte
	// at a time would reset a per-read timeout forever. It is set before anything is refused, as
	// net/http reads what is left of a refused body before it answers. ResponseController reaches
	// the connection through controller-runtime's metrics wrapper; a ResponseRecorder has none.
	rc := http.NewResponseController(w)
	deadlineSet := rc.SetReadDeadline(start.Add(cmp.Or(h.ReadTimeout, defaultReadTimeout))) == nil
	noop := func() {}
	max := cmp.Or(h.maxBody, maxRequestBytes)
	if rerr := checkHeaders(r, max); rerr != nil {
		return nil, noop, rerr
	}
	weight := r.ContentLength
	if weight < 0 {
		weight = max // a chunked body may be as large as allowed
	}
	if !h.InFlight.acquire(weight) {
		return nil, noop, tooManyRequests(w)
	}
	release := func() { h.InFlight.release(weight) }
	body, rerr := readBody(r, max)
	if rerr != nil {
		return nil, release, rerr // the deadline stays, so that net/http gives up the rest of the body
	}
	if deadlineSet {
		// Once the body is read, net/http reads on in the background to notice a client that goes
		// away, and a deadline there would cancel the request's context in the middle of an
		// evaluation. The server sets its own deadlines again for the next request.
		_ = rc.SetReadDeadline(time.Time{})
	}
	rv, rerr := decodeReview(body)
	return rv, release, rerr
}

// evaluationTimeout is the API server's timeout (it calls webhooks with ?timeout=Ns), at most
// maxTimeout, less a margin.
func evaluationTimeout(r *http.Request) time.Duration {
	timeout := policies.DefaultTimeout
	if t := r.URL.Query().Get("timeout"); t != "" {
		if d, err := time.ParseDuration(t); err == nil && d > 0 {
			timeout = min(d, maxTimeout)
		}
	}
	if timeout > 2*deadlineMargin {
		return timeout - deadlineMargin
	}
	return timeout / 2
}

func (h *handler) validate(ctx context.Context, b *bundle.Bundle, req *policies.Request) (admission.Response, string) {
	out := b.Validate(ctx, req)
	h.Metrics.findings(out.Findings)
	if len(out.Errors) > 0 {
		h.Metrics.evaluationError(h.Hook)
		return errored(out.Errors), "error"
	}
	var resp admission.Response
	decision := "allowed"
	if out.Denied() {
		resp, decision = denial(out.Findings), "denied"
	} else {
		resp = admission.Allowed("")
	}
	resp.Warnings = warnings(out.Findings)
	resp.AuditAnnotations = auditAnnotations(out)
	return resp, decision
}

func (h *handler) mutate(ctx context.Context, b *bundle.Bundle, req *policies.Request) (admission.Response, string) {
	m := b.Mutate(ctx, req)
	h.Metrics.findings(m.Findings)
	if len(m.Errors) > 0 {
		h.Metrics.evaluationError(h.Hook)
		return errored(m.Errors), "error"
	}
	if len(m.Findings) > 0 {
		return denial(m.Findings), "denied"
	}
	if !m.Changed() {
		return admission.Allowed(""), "allowed"
	}
	// The patch must turn the object as the API server sent it (which mutation leaves as it is) into
	// the mutated one.
	patch, err := json.Marshal(m.Patch)
	var original []byte
	if err == nil {
		original, err = json.Marshal(req.Object.Object)
	}
	if err == nil {
		err = checkPatch(original, patch, m.Object.Object)
	}
	if err != nil {
		h.Metrics.evaluationError(h.Hook)
		return errored([]error{err}), "error"
	}
	pt := admissionv1.PatchTypeJSONPatch
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: true, Patch: patch, PatchType: &pt,
		Result: &metav1.Status{Code: http.StatusOK},
	}}, "patched"
}

// checkPatch applies the patch to the object the API server sent and compares the result with what
// the policies produced: a patch that does not apply, or applies to something else, is never sent.
func checkPatch(original, patch []byte, want map[string]any) error {
	p, err := jsonpatchapply.DecodePatch(patch)
	if err != nil {
		return fmt.Errorf("the mutation's patch is not valid: %w", err)
	}
	patched, err := p.Apply(original)
	if err != nil {
		return fmt.Errorf("the mutation's patch does not apply to the object: %w", err)
	}
	var got map[string]any
	if err := json.Unmarshal(patched, &got); err != nil {
		return fmt.Errorf("the patched object: %w", err)
	}
	wantJSON, _ := json.Marshal(want)
	var wantNorm map[string]any
	_ = json.Unmarshal(wantJSON, &wantNorm)
	if !equality.Semantic.DeepEqual(got, wantNorm) {
		return errors.New("the mutation's patch does not produce the mutated object")
	}
	return nil
}

// errored fails closed: a policy that cannot be evaluated denies, with the reason.
func errored(errs []error) admission.Response {
	resp := admission.Errored(http.StatusInternalServerError, fmt.Errorf("policy evaluation failed: %w", errors.Join(errs...)))
	resp.Result.Message = bound(policies.OneLine(resp.Result.Message), maxMessage)
	return resp
}

func (h *handler) fail(w http.ResponseWriter, rv *review, rerr *requestError, start time.Time) {
	decision := "bad_request"
	switch {
	case rerr.status == http.StatusTooManyRequests:
		decision = "throttled"
	case rerr.status >= 500:
		decision = "error"
	}
	h.Log.Info("request refused", "webhook", string(h.Hook), "status", rerr.status, "error", rerr.err.Error())
	h.Metrics.observe(h.Hook, decision, time.Since(start))
	resp := &admissionv1.AdmissionResponse{
		Allowed: false,
		Result:  &metav1.Status{Status: metav1.StatusFailure, Code: int32(rerr.status), Message: rerr.err.Error(), Reason: statusReason(rerr.status)},
	}
	version := "admission.k8s.io/v1"
	if rv != nil {
		if rv.Request != nil {
			resp.UID = rv.Request.UID
		}
		if reviewVersions[rv.APIVersion] {
			version = rv.APIVersion
		}
	}
	writeReview(w, rerr.status, version, resp)
}

// panicked answers a request whose handling panicked as one that could not be judged: denied, with
// code 500. A bug in verdict or in an engine must not let a request through, nor take the server down.
func (h *handler) panicked(w http.ResponseWriter, rv *review, p any, start time.Time) {
	h.Log.Error(fmt.Errorf("panic: %v", p), "answering an admission request", "webhook", string(h.Hook), "stack", string(debug.Stack()))
	h.Metrics.panicked(h.Hook)
	h.fail(w, rv, &requestError{status: http.StatusInternalServerError, err: errors.New("verdict failed to judge the request (an internal error); it is denied")}, start)
}

// statusReason is the API machinery's reason for an HTTP status.
func statusReason(status int) metav1.StatusReason {
	switch status {
	case http.StatusMethodNotAllowed:
		return metav1.StatusReasonMethodNotAllowed
	case http.StatusRequestTimeout:
		return metav1.StatusReasonTimeout
	case http.StatusRequestEntityTooLarge:
		return metav1.StatusReasonRequestEntityTooLarge
	case http.StatusUnsupportedMediaType:
		return metav1.StatusReasonUnsupportedMediaType
	case http.StatusTooManyRequests:
		return metav1.StatusReasonTooManyRequests
	case http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	case http.StatusInternalServerError:
		return metav1.StatusReasonInternalError
	}
	return metav1.StatusReasonBadRequest
}

func writeReview(w http.ResponseWriter, status int, apiVersion string, resp *admissionv1.AdmissionResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(review{APIVersion: apiVersion, Kind: "AdmissionReview", Response: resp})
}

func userName(req *policies.Request) string {
	if req.UserInfo == nil {
		return ""
	}
	return req.UserInfo.GetName()
}
