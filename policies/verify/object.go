package verify

import (
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

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
	if ar.Request == nil {
		return nil, errors.New("the AdmissionReview has no request")
	}
	return policies.FromAdmissionRequest(ar.Request)
}
