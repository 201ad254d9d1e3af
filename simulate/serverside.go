package simulate

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apiserver/pkg/admission"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"github.com/verdict-dev/verdict/manifest"
)

// serverSide is kubectl apply --server-side of one object: one apply PATCH with kubectl's field
// manager. When the object does not exist the API server creates it, admitting it as a CREATE, and
// checks that the user may also create it, after the object's validation and before validating
// admission (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, withAuthorization). kubectl does not
// add the source to the error of a server-side apply.
func (w *world) serverSide(ctx context.Context, res *Result, a *attempt, obj, sent, existing *unstructured.Unstructured) (*Result, error) {
	path := objectPath(a.gvr, obj.GetNamespace(), a.name)
	r, attrs, err := w.authorize(ctx, "PATCH", withQuery(path, writeQuery(serverSideManager, true)))
	res.Requests = append(res.Requests, r)
	if err != nil {
		return refusedRequest(res, err, func(err error) error { return err })
	}
	a.attrs = attrs
	if custom, err := w.customKind(a.gvk); err != nil {
		return nil, err
	} else if custom != nil {
		if err := custom.applyPatch(sent); err != nil {
			return res.refuse(StageValidation, err), nil
		}
	}
	if existing != nil {
		a.op, a.options = admission.Update, updateOptions(serverSideManager)
		if isNamespace(obj) {
			a.namespace = obj.GetName()
		}
		merged, err := applied(sent, existing)
		if err != nil {
			return nil, err
		}
		if err := syncLastApplied(merged, sent, existing); err != nil {
			return nil, err
		}
		stored, stage, err := w.admit(ctx, a, merged, existing, nil)
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

// applied is the object a server-side apply makes of an existing one, as verdict approximates it:
// the applied manifest merged into the object as a strategic merge patch (a JSON merge patch for
// kinds without Go types), so that fields the manifest does not name (those admission set, those
// of other managers) stay. verdict does not track managed fields: a field that this manager applied
// before and no longer names is kept, where the API server would remove it.
func applied(obj, existing *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	patch, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	current, err := json.Marshal(existing.Object)
	if err != nil {
		return nil, err
	}
	var out []byte
	if versioned, err := clientScheme.New(obj.GroupVersionKind()); err == nil {
		out, err = strategicpatch.StrategicMergePatch(current, patch, versioned)
		if err != nil {
			return nil, err
		}
	} else if out, err = jsonpatch.MergePatch(current, patch); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(out); err != nil {
		return nil, err
	}
	return manifest.Normalize(u)
}

// syncLastApplied is what the API server's field manager does for kubectl's server-side apply of an
// object that has client-side apply's annotation (managedfields' lastAppliedUpdater): the annotation
// becomes the applied object, without the annotation itself, so that a later client-side apply
// starts from it.
func syncLastApplied(merged, sent, existing *unstructured.Unstructured) error {
	if _, ok := existing.GetAnnotations()[corev1.LastAppliedConfigAnnotation]; !ok {
		return nil
	}
	applied := sent.DeepCopy()
	annotations := applied.GetAnnotations()
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	applied.SetAnnotations(annotations)
	value, err := runtime.Encode(unstructured.UnstructuredJSONScheme, applied)
	if err != nil {
		return err
	}
	annotations = merged.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[corev1.LastAppliedConfigAnnotation] = string(value)
	merged.SetAnnotations(annotations)
	return nil
}
