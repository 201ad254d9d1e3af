package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"

	admissionv1 "k8s.io/api/admission/v1"

	kjson "sigs.k8s.io/json"

	"github.com/verdict-dev/verdict/policies"
)

// maxRequestBytes bounds a request body. The API server's own limit on a request is 3 MiB, and an
// AdmissionReview carries the object and the old object.
const maxRequestBytes = 7 << 20

// The AdmissionReview versions this server answers; the response echoes the request's.
var reviewVersions = map[string]bool{"admission.k8s.io/v1": true, "admission.k8s.io/v1beta1": true}

// requestError is a request that cannot be answered, with the HTTP status that says why.
type requestError struct {
	status int
	err    error
}

func (e *requestError) Error() string { return e.err.Error() }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// review is an AdmissionReview of either version: both have the same shape.
type review struct {
	APIVersion string                         `json:"apiVersion"`
	Kind       string                         `json:"kind"`
	Request    *reviewRequest                 `json:"request,omitempty"`
	Response   *admissionv1.AdmissionResponse `json:"response,omitempty"`
}

// reviewRequest is an AdmissionRequest whose embedded objects decode with the review, in the same
// pass, straight into the maps the policies read (the outer fields hide the RawExtensions of the
// same names, which stay empty).
type reviewRequest struct {
	admissionv1.AdmissionRequest
	Object    map[string]any `json:"object,omitempty"`
	OldObject map[string]any `json:"oldObject,omitempty"`
	Options   map[string]any `json:"options,omitempty"`
}

// embeddedFields are the JSON paths of the embedded objects, which must be JSON objects.
var embeddedFields = map[string]bool{"request.object": true, "request.oldObject": true, "request.options": true}

// checkHeaders refuses, before any of the body is read, what cannot be an AdmissionReview this
// server takes: another method, another media type, a Content-Length over max.
func checkHeaders(r *http.Request, max int64) *requestError {
	if r.Method != http.MethodPost {
		return &requestError{status: http.StatusMethodNotAllowed, err: fmt.Errorf("method %s is not allowed: send AdmissionReviews with POST", r.Method)}
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType,
			err: fmt.Errorf("Content-Type %q is not supported: send application/json", r.Header.Get("Content-Type"))}
	}
	if r.ContentLength > max {
		return tooLarge(max)
	}
	return nil
}

func tooLarge(max int64) *requestError {
	return &requestError{status: http.StatusRequestEntityTooLarge, err: fmt.Errorf("the request body is over %d bytes", max)}
}

// readBody reads the body of a request that passed checkHeaders. With a Content-Length, the buffer
// is made that size once (io.ReadAll would grow it by doubling, to up to twice the body); without
// one (a chunked body), it reads at most max bytes.
func readBody(r *http.Request, max int64) ([]byte, *requestError) {
	if r.Body == nil || r.ContentLength == 0 {
		return nil, badRequest("the request body is empty: send an AdmissionReview")
	}
	var body []byte
	var err error
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, max+1))
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Timeout is the nearest reason the API machinery has to 408.
		return nil, &requestError{status: http.StatusRequestTimeout, err: errors.New("the request body was not sent in time")}
	case err != nil:
		return nil, badRequest("reading the request body: %v", err)
	case int64(len(body)) > max:
		return nil, tooLarge(max)
	case len(body) == 0:
		return nil, badRequest("the request body is empty: send an AdmissionReview")
	}
	return body, nil
}

// decodeReview decodes and checks an AdmissionReview body in one pass, keeping integers as int64 and
// field names case-sensitive, as the API server's own decoding does.
func decodeReview(body []byte) (*review, *requestError) {
	rv := &review{}
	// An embedded object that is no JSON object is refused after the review's own checks, with the
	// rest of the review decoded (its uid echoed), as when the objects decoded on their own.
	var notAnObject *requestError
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, rv); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) || !embeddedFields[typeErr.Field] {
			return nil, badRequest("the body is not a JSON AdmissionReview: %v", err)
		}
		notAnObject = badRequest("%s is not a JSON object: json: cannot unmarshal %s into Go value of type map[string]interface {}", typeErr.Field, typeErr.Value)
	}
	if rv.Kind != "AdmissionReview" {
		return nil, badRequest("kind %q is not AdmissionReview", rv.Kind)
	}
	if !reviewVersions[rv.APIVersion] {
		return nil, badRequest("apiVersion %q is not supported: send admission.k8s.io/v1 or admission.k8s.io/v1beta1", rv.APIVersion)
	}
	if rv.Request == nil {
		return nil, badRequest("the AdmissionReview has no request")
	}
	if rv.Request.UID == "" {
		return nil, badRequest("the AdmissionReview's request has no uid")
	}
	if notAnObject != nil {
		return rv, notAnObject
	}
	return rv, nil
}

// toRequest converts an AdmissionRequest into the policies' request (policies.FromAdmissionRequest),
// with what the API server always sends: an operation, a kind and a resource.
func toRequest(rr *reviewRequest) (*policies.Request, *requestError) {
	ar := &rr.AdmissionRequest
	if ar.Operation == "" {
		return nil, badRequest("the request has no operation")
	}
	if ar.Kind.Kind == "" || ar.Resource.Resource == "" {
		return nil, badRequest("the request names no kind or resource")
	}
	req, err := policies.FromDecodedAdmissionRequest(ar, policies.Embedded{Object: rr.Object, OldObject: rr.OldObject, Options: rr.Options})
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return req, nil
}
