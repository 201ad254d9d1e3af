package verify

import (
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
)

// readObjects reads every object of a file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	docs, err := manifest.ReadPath(path)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: defines no objects", path)
	}
	out := make([]*unstructured.Unstructured, len(docs))
	for i, d := range docs {
		out[i] = d.Object
	}
	return out, nil
}

// readObject reads a file that must hold exactly one object.
func readObject(path string) (*unstructured.Unstructured, error) {
	objs, err := readObjects(path)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("%s: defines %d objects, want exactly 1", path, len(objs))
	}
	return objs[0], nil
}

// isAdmissionReview reports whether obj is an AdmissionReview (admission.k8s.io, any version).
func isAdmissionReview(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Kind == "AdmissionReview" && gvk.Group == admissionv1.GroupName
}

// gatorRequest presents an object to the policies as gator does: a plain manifest exactly as
// written, with no operation, resource or namespace filled in; an AdmissionReview as its request.
func gatorRequest(obj *unstructured.Unstructured) (*policies.Request, error) {
	if isAdmissionReview(obj) {
		return admissionRequest(obj)
	}
	return &policies.Request{
		Kind:      obj.GroupVersionKind(),
		Name:      obj.GetName(),
		Namespace: obj.GetNamespace(),
		Object:    obj,
	}, nil
}

// admissionRequest reads the request of an AdmissionReview, refusing unknown fields as gator does.
func admissionRequest(obj *unstructured.Unstructured) (*policies.Request, error) {
	var ar admissionv1.AdmissionReview
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, &ar, true); err != nil {
		return nil, fmt.Errorf("unable to convert to an AdmissionReview object: %w", err)
	}
	r := ar.Request
	if r == nil {
		return nil, errors.New("the AdmissionReview has no request")
	}
	if r.Object.Raw == nil && r.OldObject.Raw == nil {
		return nil, errors.New(`the AdmissionReview's request has no "object" or "oldObject" to review`)
	}
	req := &policies.Request{
		UID:         string(r.UID),
		Kind:        schema.GroupVersionKind{Group: r.Kind.Group, Version: r.Kind.Version, Kind: r.Kind.Kind},
		Resource:    schema.GroupVersionResource{Group: r.Resource.Group, Version: r.Resource.Version, Resource: r.Resource.Resource},
		SubResource: r.SubResource,
		Name:        r.Name,
		Namespace:   r.Namespace,
		Operation:   policies.Operation(r.Operation),
		DryRun:      r.DryRun != nil && *r.DryRun,
	}
	if k := r.RequestKind; k != nil {
		req.RequestKind = &schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
	}
	if rr := r.RequestResource; rr != nil {
		req.RequestResource = &schema.GroupVersionResource{Group: rr.Group, Version: rr.Version, Resource: rr.Resource}
	}
	var err error
	if req.Object, err = rawObject(r.Object); err != nil {
		return nil, fmt.Errorf("request.object: %w", err)
	}
	if req.OldObject, err = rawObject(r.OldObject); err != nil {
		return nil, fmt.Errorf("request.oldObject: %w", err)
	}
	if req.Options, err = rawObject(r.Options); err != nil {
		return nil, fmt.Errorf("request.options: %w", err)
	}
	if req.Operation == policies.Delete && req.OldObject == nil {
		return nil, errors.New("request.oldObject is required for a DELETE operation")
	}
	info := &user.DefaultInfo{Name: r.UserInfo.Username, UID: r.UserInfo.UID, Groups: r.UserInfo.Groups}
	if len(r.UserInfo.Extra) > 0 {
		info.Extra = map[string][]string{}
		for k, v := range r.UserInfo.Extra {
			info.Extra[k] = v
		}
	}
	req.UserInfo = info
	return req, nil
}

func rawObject(raw runtime.RawExtension) (*unstructured.Unstructured, error) {
	if raw.Raw == nil || string(raw.Raw) == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := utiljson.Unmarshal(raw.Raw, &m); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
