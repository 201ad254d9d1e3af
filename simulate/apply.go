package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubectl/pkg/util"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// apply is kubectl apply of one document: its requests, in order, each through the API server's
// stages until one refuses it. An error is an input kubectl would not send.
func (w *world) apply(ctx context.Context, d manifest.Document) (*Result, error) {
	if d.Object.GetName() == "" {
		if g := d.Object.GetGenerateName(); g != "" {
			return nil, fmt.Errorf("from %s: cannot use generate name with apply", g)
		}
		return nil, errors.New("the object has no metadata.name: kubectl apply needs one")
	}
	req, warns, err := bundle.Present(w.view, d.Object, policies.Create)
	if err != nil {
		return nil, err
	}
	obj := req.Object
	res := newResult(d, obj)
	res.Warnings = append(res.Warnings, warns...)
	sent := sentObject(d.Object, obj.GetNamespace())
	if !w.server {
		if err := withLastApplied(obj, sent); err != nil {
			return nil, err
		}
	}
	a := &attempt{gvk: req.Kind, gvr: req.Resource, namespace: req.Namespace, name: obj.GetName(), warnings: &warnings{}}
	defer func() { res.Warnings = append(res.Warnings, a.warnings.list...) }()
	existing := w.get(a.gvr, obj.GetNamespace(), a.name)
	if w.server {
		return w.serverSide(ctx, res, a, obj, sent, existing)
	}
	i := info(a.gvk, a.gvr, obj.GetNamespace(), a.name)
	r, _, err := w.authorize(ctx, "GET", objectPath(a.gvr, obj.GetNamespace(), a.name))
	res.Requests = append(res.Requests, r)
	if err != nil {
		return refusedRequest(res, err, func(err error) error { return whileRetrieving(i, d.File, err) })
	}
	if existing != nil {
		return w.patch(ctx, res, a, sent, existing)
	}
	r, attrs, err := w.authorize(ctx, "POST", withQuery(objectPath(a.gvr, obj.GetNamespace(), ""), writeQuery(clientSideManager, false)))
	res.Requests = append(res.Requests, r)
	if err != nil {
		return refusedRequest(res, err, func(err error) error { return whileCreating(d.File, err) })
	}
	a.op, a.options, a.attrs = admission.Create, createOptions(clientSideManager), attrs
	stored, stage, err := w.admit(ctx, a, obj, nil, nil)
	if err != nil {
		return res.refuse(stage, whileCreating(d.File, err)), nil
	}
	return w.accept(res, stored, a, Created)
}

// refusedRequest ends a result whose request the authorizer refused; an error that is no API
// error is an input the request could not be made of.
func refusedRequest(res *Result, err error, wrap func(error) error) (*Result, error) {
	if !apierrors.IsForbidden(err) {
		return nil, err
	}
	return res.refuse(StageAuthorization, wrap(err)), nil
}

// accept stores an accepted object in the simulated cluster; the result shows it without what the
// API server generates for each write.
func (w *world) accept(res *Result, stored *unstructured.Unstructured, a *attempt, outcome Outcome) (*Result, error) {
	if err := w.store(stored, a.gvr); err != nil {
		return nil, err
	}
	res.Outcome, res.Object = outcome, withoutGenerated(stored)
	return res, nil
}

// sentObject is the manifest as kubectl sends it: as written, in the namespace kubectl fills in
// when it has none.
func sentObject(written *unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	sent := written.DeepCopy()
	if namespace != "" {
		sent.SetNamespace(namespace)
	}
	return sent
}

// withLastApplied gives sent the annotation client-side kubectl apply writes, the manifest as it
// sends it (util.CreateApplyAnnotation), and obj the same annotation.
func withLastApplied(obj, sent *unstructured.Unstructured) error {
	if err := util.CreateApplyAnnotation(sent, unstructured.UnstructuredJSONScheme); err != nil {
		return err
	}
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[corev1.LastAppliedConfigAnnotation] = sent.GetAnnotations()[corev1.LastAppliedConfigAnnotation]
	obj.SetAnnotations(annotations)
	return nil
}

// admit runs a write request through the API server's stages after authorization: the built-in
// mutating plugins, the mutating policies, the RBAC escalation check, the create check of a
// server-side apply that creates (authorizeCreate, when not nil), the built-in validating plugins
// and the validating policies. It returns the object as it would be stored, or the stage that
// refused it and the API server's error.
func (w *world) admit(ctx context.Context, a *attempt, obj, old *unstructured.Unstructured, authorizeCreate func() error) (*unstructured.Unstructured, string, error) {
	ctx = a.context(ctx)
	if err := w.cluster.sync(); err != nil {
		return nil, StageMutating, apierrors.NewInternalError(err)
	}
	custom, obj, err := w.decodeCustom(a, obj, old)
	if err != nil {
		return nil, StageValidation, err
	}
	internal, _, err := toInternal(obj)
	if err != nil {
		return nil, StageValidation, apierrors.NewBadRequest(err.Error())
	}
	var oldInternal runtime.Object
	if old != nil {
		if oldInternal, _, err = toInternal(old); err != nil {
			return nil, StageValidation, apierrors.NewBadRequest(err.Error())
		}
	}
	if !a.recorded {
		if internal, err = w.recordFields(a, custom, internal, oldInternal); err != nil {
			return nil, StageValidation, apierrors.NewInternalError(err)
		}
	}
	attrs := a.attributes(internal, oldInternal)
	if stage, err := w.mutate(ctx, attrs); err != nil {
		return nil, stage, err
	}
	admitted, err := fromInternal(attrs.GetObject(), a.gvk)
	if err != nil {
		return nil, StageMutating, apierrors.NewInternalError(err)
	}
	mutated, err := w.mutatePolicies(ctx, a, admitted, old, attrs)
	if err != nil {
		return nil, StageMutating, err
	}
	if mutated != admitted {
		if internal, _, err = toInternal(mutated); err != nil {
			return nil, StageMutating, apierrors.NewInternalError(err)
		}
		attrs = a.attributes(internal, oldInternal)
	}
	if err := w.escalation(ctx, internal, oldInternal, a.namespace); err != nil {
		return nil, StageEscalation, err
	}
	if err := w.validateObject(ctx, a, custom, internal, oldInternal); err != nil {
		return nil, StageValidation, err
	}
	if Validated(a.gvk.GroupKind()) && custom == nil {
		if mutated, err = fromInternal(internal, a.gvk); err != nil {
			return nil, StageValidation, apierrors.NewInternalError(err)
		}
	}
	if authorizeCreate != nil {
		if err := authorizeCreate(); err != nil {
			return nil, StageAuthorization, err
		}
	}
	if stage, err := w.validate(ctx, attrs, w.cluster.plugins); err != nil {
		return nil, stage, err
	}
	if err := w.validatePolicies(ctx, a, mutated, old, attrs); err != nil {
		return nil, StageValidating, err
	}
	if stage, err := w.validate(ctx, attrs, w.cluster.final); err != nil {
		return nil, stage, err
	}
	if custom != nil {
		// The storage's encoder prunes what admission added outside the schema.
		if _, err := custom.coerce(mutated); err != nil {
			return nil, StageValidation, apierrors.NewInternalError(err)
		}
	}
	return mutated, "", nil
}

// decodeCustom decodes a custom resource as the API server's decoder does, by its CRD's structural
// schema; custom is nil, and obj unchanged, for the other kinds. An update's object is the patched
// one, whose bytes the decoder's errors quote.
func (w *world) decodeCustom(a *attempt, obj, old *unstructured.Unstructured) (*customKind, *unstructured.Unstructured, error) {
	custom, err := w.customKind(a.gvk)
	if err != nil || custom == nil {
		if err != nil {
			err = apierrors.NewInternalError(err)
		}
		return nil, obj, err
	}
	var patched []byte
	if old != nil {
		if patched, err = json.Marshal(obj.Object); err != nil {
			return nil, nil, apierrors.NewInternalError(err)
		}
	}
	obj = obj.DeepCopy()
	if err := custom.decode(obj, patched); err != nil {
		return nil, nil, err
	}
	return custom, obj, nil
}

// withoutGenerated leaves out of a stored object what the API server generates anew for every
// write (its uid, creation time and resource version) and its managed fields (whose entries are
// stamped with the time of the write), so that a simulation prints the same object every time.
func withoutGenerated(obj *unstructured.Unstructured) *unstructured.Unstructured {
	out := obj.DeepCopy()
	unstructured.RemoveNestedField(out.Object, "metadata", "uid")
	unstructured.RemoveNestedField(out.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(out.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(out.Object, "metadata", "managedFields")
	return out
}
