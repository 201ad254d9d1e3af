package simulate

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// lastAppliedManager is the field manager under which kubectl's migration from client-side apply
// applies the last-applied annotation (fieldManagerLastAppliedAnnotation).
const lastAppliedManager = "kubectl-last-applied"

// lastAppliedField is the field of client-side apply's annotation (kubectl's
// lastAppliedAnnotationFieldPath).
var lastAppliedField = fieldpath.NewSet(fieldpath.MakePathOrDie("metadata", "annotations", corev1.LastAppliedConfigAnnotation))

// serverSide is kubectl apply --server-side of one object: one apply PATCH with kubectl's field
// manager, merged by the API server's field manager into the object by the owners of its fields.
// When the object does not exist the API server creates it, admitting it as a CREATE, and checks
// that the user may also create it, after the object's validation and before validating admission
// (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, withAuthorization). kubectl does not add the
// source to the error of a server-side apply. An object that client-side apply wrote is then
// migrated to server-side apply, as kubectl does after the patch.
func (w *world) serverSide(ctx context.Context, res *Result, a *attempt, obj, sent, existing *unstructured.Unstructured) (*Result, error) {
	path := objectPath(a.gvr, obj.GetNamespace(), a.name)
	r, attrs, err := w.authorize(ctx, "PATCH", withQuery(path, writeQuery(serverSideManager, true)))
	res.Requests = append(res.Requests, r)
	if err != nil {
		return refusedRequest(res, err, func(err error) error { return err })
	}
	a.attrs = attrs
	custom, err := w.customKind(a.gvk)
	if err != nil {
		return nil, err
	}
	outcome := Configured
	var authorizeCreate func() error
	if existing != nil {
		a.op, a.options = admission.Update, updateOptions(serverSideManager)
		if isNamespace(obj) {
			a.namespace = obj.GetName()
		}
	} else {
		a.op, a.options, outcome = admission.Create, createOptions(serverSideManager), Created
		create := attrs
		create.Verb = "create"
		authorizeCreate = func() error {
			cr, _, err := w.decide(ctx, "PATCH", path, create)
			cr.Reason = "create check of a server-side apply that creates " + cr.Reason
			res.Requests = append(res.Requests, cr)
			return err
		}
	}
	stored, stage, err := w.applyPatch(ctx, a, custom, sent, existing, authorizeCreate)
	if err != nil {
		return res.refuse(stage, err), nil
	}
	if stored, err = w.migrateToServerSide(ctx, res, a, custom, sent, stored); err != nil {
		return nil, err
	}
	return w.accept(res, stored, a, outcome)
}

// applyPatch merges one apply patch into live (nil: the apply creates the object) and admits the
// result.
func (w *world) applyPatch(ctx context.Context, a *attempt, custom *customKind, applied, live *unstructured.Unstructured, authorizeCreate func() error) (*unstructured.Unstructured, string, error) {
	merged, err := w.serverSideApply(a, custom, applied, live)
	if err != nil {
		return nil, StageValidation, err
	}
	a.recorded = true
	defer func() { a.recorded = false }()
	return w.admit(ctx, a, merged, live, authorizeCreate)
}

// migrateToServerSide is what kubectl apply --server-side does after a successful patch of an
// object that has client-side apply's annotation (apply.go: saveLastApplyAnnotationIfNecessary,
// migrateToSSAIfNecessary): an apply patch of the annotation alone under its own manager, unless a
// server-side applier owns it already; then a JSON patch that hands the fields of the client-side
// managers to kubectl's server-side manager, and the apply patch once more, which may now remove
// the fields the manifest no longer names. Each is a PATCH the API server admits; one it refuses
// ends the migration with kubectl's warning, and the object stays as the last accepted one.
func (w *world) migrateToServerSide(ctx context.Context, res *Result, a *attempt, custom *customKind, sent, stored *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	annotation, ok := stored.GetAnnotations()[corev1.LastAppliedConfigAnnotation]
	if !ok {
		return stored, nil
	}
	step := func(manager string, force bool, warning string, write func(live *unstructured.Unstructured) (*unstructured.Unstructured, string, error)) (bool, error) {
		if err := w.store(stored, a.gvr); err != nil {
			return false, err
		}
		r, attrs, err := w.authorize(ctx, "PATCH", withQuery(objectPath(a.gvr, stored.GetNamespace(), a.name), writeQuery(manager, force)))
		res.Requests = append(res.Requests, r)
		if err == nil {
			a.op, a.options, a.attrs = admission.Update, updateOptions(manager), attrs
			var next *unstructured.Unstructured
			if next, _, err = write(stored); err == nil {
				stored = next
				return true, nil
			}
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf(warning, strings.TrimRight(err.Error(), "\n")))
		return false, nil
	}
	if len(csaupgrade.FindFieldsOwners(stored.GetManagedFields(), metav1.ManagedFieldsOperationApply, lastAppliedField)) == 0 {
		just := &unstructured.Unstructured{}
		just.SetGroupVersionKind(a.gvk)
		just.SetName(stored.GetName())
		just.SetNamespace(stored.GetNamespace())
		just.SetAnnotations(map[string]string{corev1.LastAppliedConfigAnnotation: annotation})
		ok, err := step(lastAppliedManager, false, migrationLastAppliedFailed, func(live *unstructured.Unstructured) (*unstructured.Unstructured, string, error) {
			return w.applyPatch(ctx, a, custom, just, live, nil)
		})
		if !ok || err != nil {
			return stored, err
		}
	}
	managers := sets.New[string]()
	for _, e := range csaupgrade.FindFieldsOwners(stored.GetManagedFields(), metav1.ManagedFieldsOperationUpdate, lastAppliedField) {
		managers.Insert(e.Manager)
	}
	upgraded := stored.DeepCopy()
	if err := csaupgrade.UpgradeManagedFields(upgraded, managers, serverSideManager); err != nil {
		return nil, err
	}
	if reflect.DeepEqual(upgraded.GetManagedFields(), stored.GetManagedFields()) {
		return stored, nil
	}
	ok, err := step(serverSideManager, false, migrationPatchFailed, func(live *unstructured.Unstructured) (*unstructured.Unstructured, string, error) {
		upgraded.SetResourceVersion(live.GetResourceVersion()) // as the JSON patch replaces it
		return w.admit(ctx, a, upgraded, live, nil)
	})
	if !ok || err != nil {
		return stored, err
	}
	_, err = step(serverSideManager, true, migrationReapplyFailed, func(live *unstructured.Unstructured) (*unstructured.Unstructured, string, error) {
		return w.applyPatch(ctx, a, custom, sent, live, nil)
	})
	return stored, err
}

// kubectl's warnings when a step of the migration fails (apply.go, warningMigration*), without
// the "Warning: " kubectl prints before each warning.
const (
	migrationLastAppliedFailed = "failed to migrate kubectl.kubernetes.io/last-applied-configuration for Server-Side Apply. This is non-fatal and will be retried next time you apply. Error: %s"
	migrationPatchFailed       = "server rejected managed fields migration to Server-Side Apply. This is non-fatal and will be retried next time you apply. Error: %s"
	migrationReapplyFailed     = "failed to re-apply configuration after performing Server-Side Apply migration. This is non-fatal and will be retried next time you apply. Error: %s"
)
