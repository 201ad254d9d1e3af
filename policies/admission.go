package policies

import (
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	kjson "sigs.k8s.io/json"
)

// FromAdmissionRequest converts an AdmissionRequest (of a webhook call, or of an AdmissionReview in
// a test suite) into the policies' request. It checks what every reader needs: a known operation
// (or none), embedded objects that are JSON objects, and an object or old object to judge, except
// on CONNECT. The policies' request renders back with Request.AdmissionRequest.
func FromAdmissionRequest(ar *admissionv1.AdmissionRequest) (*Request, error) {
	var objects Embedded
	var err error
	if objects.Object, err = embedded(ar.Object, "request.object"); err != nil {
		return nil, err
	}
	if objects.OldObject, err = embedded(ar.OldObject, "request.oldObject"); err != nil {
		return nil, err
	}
	if objects.Options, err = embedded(ar.Options, "request.options"); err != nil {
		return nil, err
	}
	return FromDecodedAdmissionRequest(ar, objects)
}

// Embedded are the objects an AdmissionRequest embeds, decoded (nil when absent or null).
type Embedded struct {
	Object, OldObject, Options map[string]any
}

// FromDecodedAdmissionRequest is FromAdmissionRequest for a reader that decoded the embedded objects
// itself, with the review (the webhook decodes the whole review in one pass); ar's own
// RawExtensions are not read.
func FromDecodedAdmissionRequest(ar *admissionv1.AdmissionRequest, objects Embedded) (*Request, error) {
	op := Operation(ar.Operation)
	if ar.Operation != "" {
		var ok bool
		if op, ok = ParseOperation(string(ar.Operation)); !ok {
			return nil, fmt.Errorf("request.operation %q is not CREATE, UPDATE, DELETE or CONNECT", ar.Operation)
		}
	}
	req := &Request{
		UID:         string(ar.UID),
		Kind:        schema.GroupVersionKind(ar.Kind),
		Resource:    schema.GroupVersionResource(ar.Resource),
		SubResource: ar.SubResource,
		Name:        ar.Name,
		Namespace:   ar.Namespace,
		Operation:   op,
		DryRun:      ar.DryRun != nil && *ar.DryRun,
	}
	if ar.RequestKind != nil {
		k := schema.GroupVersionKind(*ar.RequestKind)
		req.RequestKind = &k
	}
	if ar.RequestResource != nil {
		r := schema.GroupVersionResource(*ar.RequestResource)
		req.RequestResource = &r
	}
	req.Object, req.OldObject, req.Options = asObject(objects.Object), asObject(objects.OldObject), asObject(objects.Options)
	switch {
	case op == Delete && req.OldObject == nil:
		return nil, errors.New("request.oldObject is required for a DELETE operation")
	case req.Object == nil && req.OldObject == nil && op != Connect:
		return nil, errors.New(`the request has neither "object" nor "oldObject" to review`)
	}
	info := &user.DefaultInfo{Name: ar.UserInfo.Username, UID: ar.UserInfo.UID, Groups: ar.UserInfo.Groups}
	if len(ar.UserInfo.Extra) > 0 {
		info.Extra = make(map[string][]string, len(ar.UserInfo.Extra))
		for k, v := range ar.UserInfo.Extra {
			info.Extra[k] = v
		}
	}
	req.UserInfo = info
	return req, nil
}

func asObject(m map[string]any) *unstructured.Unstructured {
	if m == nil {
		return nil
	}
	return &unstructured.Unstructured{Object: m}
}

// embedded decodes an embedded object, keeping integers as int64 and field names case-sensitive,
// as the API server's own decoding does.
func embedded(raw runtime.RawExtension, field string) (map[string]any, error) {
	if len(raw.Raw) == 0 || string(raw.Raw) == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw.Raw, &m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %v", field, err)
	}
	if m == nil {
		return nil, errors.New(field + " is not a JSON object")
	}
	return m, nil
}
