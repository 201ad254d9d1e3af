package simulate

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/rbacsim"
)

// Authorized is the outcome of a raw request that the simulation only authorized: one without a
// body, or of a method whose body it does not admit.
const Authorized Outcome = "authorized"

// Deleted is the outcome of a raw DELETE of one object that the API server would delete.
const Deleted Outcome = "deleted"

// RunRequest simulates one raw API request, "METHOD PATH[?QUERY]" as kubectl -v=8 prints it: it is
// authorized as the API server authorizes it and, for a POST (create) or PUT (update) with a body,
// the body goes through the stages of an apply's create or update; a DELETE of one object goes
// through the API server's delete (admitDelete). Other requests are only authorized. A refused request's message is what kubectl prints for the API server's error.
func RunRequest(ctx context.Context, line string, body *manifest.Document, opts Options) (*Result, error) {
	if opts.User == nil {
		return nil, errors.New("simulate: no user")
	}
	attrs, err := rbacsim.ParseRequest(line)
	if err != nil {
		return nil, err
	}
	w, err := newWorld(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer w.close()
	attrs.User = w.user
	res := &Result{Requests: []Request{}, Warnings: []string{}, Namespace: attrs.Namespace, Name: attrs.Name}
	if body != nil {
		res = newResult(*body, body.Object)
	}
	method, path := methodAndPath(line)
	r, attrs, err := w.decide(ctx, method, path, attrs)
	res.Requests = append(res.Requests, r)
	if err != nil {
		return res.refuse(StageAuthorization, err), nil
	}
	if attrs.Verb == "delete" && attrs.Name != "" && attrs.Subresource == "" {
		return w.admitDelete(ctx, res, attrs)
	}
	if body == nil || (attrs.Verb != "create" && attrs.Verb != "update") || attrs.Subresource != "" {
		res.Outcome = Authorized
		return res, nil
	}
	return w.admitBody(ctx, res, attrs, body)
}

// admitBody admits the body of an authorized POST or PUT.
func (w *world) admitBody(ctx context.Context, res *Result, attrs authorizer.AttributesRecord, body *manifest.Document) (*Result, error) {
	p, err := w.view.Present(body.Object)
	if err != nil {
		return nil, body.Wrap(err)
	}
	obj := p.Object
	a := &attempt{gvk: obj.GroupVersionKind(), gvr: p.Resource, namespace: p.Namespace, name: obj.GetName(), warnings: &warnings{}, attrs: attrs}
	defer func() { res.Warnings = append(res.Warnings, a.warnings.list...) }()
	var old *unstructured.Unstructured
	outcome := Created
	a.op, a.options = admission.Create, createOptions("")
	if attrs.Verb == "update" {
		if old = w.get(a.gvr, obj.GetNamespace(), a.name); old == nil {
			return res.refuse(StageValidation, apierrors.NewNotFound(a.gvr.GroupResource(), a.name)), nil
		}
		a.op, a.options, outcome = admission.Update, updateOptions(""), Configured
	}
	stored, stage, err := w.admit(ctx, a, obj, old, nil)
	if err != nil {
		return res.refuse(stage, err), nil
	}
	return w.accept(res, stored, a, outcome)
}

// admitDelete is the API server's DELETE of one object (k8s.io/apiserver's delete handler and the
// registry's Delete): NotFound for an object the cluster does not hold; otherwise the admission
// chain runs with the object as oldObject and no object, the mutating plugins then the validating
// ones (rest.AdmissionToValidateObjectDeleteFunc): NamespaceLifecycle refuses to delete the
// namespaces kube-apiserver keeps, and ValidatingAdmissionPolicies, Gatekeeper and Rego that take
// DELETE judge the old object. MutatingAdmissionPolicies take only CREATE and UPDATE.
func (w *world) admitDelete(ctx context.Context, res *Result, attrs authorizer.AttributesRecord) (*Result, error) {
	gvr := schema.GroupVersionResource{Group: attrs.APIGroup, Version: attrs.APIVersion, Resource: attrs.Resource}
	namespace := attrs.Namespace
	if gvr.Group == "" && gvr.Resource == "namespaces" {
		namespace = "" // the request's namespace is its name; a Namespace is cluster-scoped
	}
	old := w.get(gvr, namespace, attrs.Name)
	if old == nil {
		return res.refuse(StageValidation, apierrors.NewNotFound(gvr.GroupResource(), attrs.Name)), nil
	}
	a := &attempt{gvk: gvr.GroupVersion().WithKind(old.GetKind()), gvr: gvr, namespace: namespace, name: attrs.Name,
		op: admission.Delete, options: deleteOptions(), warnings: &warnings{}, attrs: attrs}
	defer func() { res.Warnings = append(res.Warnings, a.warnings.list...) }()
	ctx = a.context(ctx)
	if err := w.cluster.sync(); err != nil {
		return nil, err
	}
	oldInternal, _, err := toInternal(old)
	if err != nil {
		return nil, err
	}
	admissionAttrs := a.attributes(nil, oldInternal)
	if stage, err := w.mutate(ctx, admissionAttrs); err != nil {
		return res.refuse(stage, err), nil
	}
	if stage, err := w.validate(ctx, admissionAttrs, w.cluster.plugins); err != nil {
		return res.refuse(stage, err), nil
	}
	if err := w.validatePolicies(ctx, a, nil, old, admissionAttrs); err != nil {
		return res.refuse(StageValidating, err), nil
	}
	if stage, err := w.validate(ctx, admissionAttrs, w.cluster.final); err != nil {
		return res.refuse(stage, err), nil
	}
	res.Outcome = Deleted
	return res, nil
}

// deleteOptions are the options of a DELETE without a body, as the API server hands them to
// admission.
func deleteOptions() runtime.Object {
	return &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "DeleteOptions"}}
}

// methodAndPath are the first two fields of a request line, for the report.
func methodAndPath(line string) (method, path string) {
	if _, err := fmt.Sscan(line, &method, &path); err != nil {
		return method, line
	}
	return method, path
}
