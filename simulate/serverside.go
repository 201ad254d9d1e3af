package simulate

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/admission"
)

// serverSide is kubectl apply --server-side of one object: one apply PATCH with kubectl's field
// manager. When the object does not exist the API server creates it, admitting it as a CREATE, and
// checks that the user may also create it, after the object's validation and before validating
// admission (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, withAuthorization). kubectl does not
// add the source to the error of a server-side apply.
func (w *world) serverSide(ctx context.Context, res *Result, a *attempt, obj, existing *unstructured.Unstructured) (*Result, error) {
	path := objectPath(a.gvr, obj.GetNamespace(), a.name)
	r, attrs, err := w.authorize(ctx, "PATCH", withQuery(path, writeQuery(serverSideManager, true)))
	res.Requests = append(res.Requests, r)
	if err != nil {
		return refusedRequest(res, err, func(err error) error { return err })
	}
	a.attrs = attrs
	if existing != nil {
		a.op, a.options = admission.Update, updateOptions(serverSideManager)
		if isNamespace(obj) {
			a.namespace = obj.GetName()
		}
		stored, stage, err := w.admit(ctx, a, applied(obj, existing), existing, nil)
		if err != nil {
			return res.refuse(stage, err), nil
		}
		return w.accept(res, stored, a, Configured)
	}
	a.op, a.options = admission.Create, createOptions(serverSideManager)
	create := attrs
	create.Verb = "create"
	authorizeCreate := func() error {
		cr, _, err := w.decide(ctx, "PATCH", path, create)
		cr.Reason = "create check of a server-side apply that creates " + cr.Reason
		res.Requests = append(res.Requests, cr)
		return err
	}
	stored, stage, err := w.admit(ctx, a, obj, nil, authorizeCreate)
	if err != nil {
		return res.refuse(stage, err), nil
	}
	return w.accept(res, stored, a, Created)
}

// applied is the object a server-side apply makes of an existing one. verdict does not merge
// managed fields: the applied manifest replaces the fields it names, and the object keeps its
// other metadata.
func applied(obj, existing *unstructured.Unstructured) *unstructured.Unstructured {
	out := obj.DeepCopy()
	out.SetUID(existing.GetUID())
	out.SetResourceVersion(existing.GetResourceVersion())
	out.SetCreationTimestamp(existing.GetCreationTimestamp())
	return out
}
