package simulate

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubectl/pkg/util"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"github.com/verdict-dev/verdict/manifest"
)

// Unchanged is the outcome of an object whose client-side apply computes an empty patch: kubectl
// sends no PATCH and prints "unchanged".
const Unchanged Outcome = "unchanged"

// patch is the client-side apply of an object that exists: kubectl's three-way patch from the
// last-applied configuration, the manifest and the object in the cluster (a strategic merge patch
// for built-in kinds, a JSON merge patch for others, as kubectl's Patcher without OpenAPI), sent as
// one PATCH unless it is empty; the API server applies it and admits the result as an UPDATE.
func (w *world) patch(ctx context.Context, res *Result, a *attempt, sent, existing *unstructured.Unstructured) (*Result, error) {
	obj := sent
	if _, ok := existing.GetAnnotations()[corev1.LastAppliedConfigAnnotation]; !ok {
		// kubectl's own warning (apply.go, warningNoLastAppliedConfigAnnotation), before the patch.
		name := info(a.gvk, a.gvr, obj.GetNamespace(), a.name).ObjectName()
		res.Warnings = append(res.Warnings, fmt.Sprintf("resource %[1]s is missing the %[2]s annotation which is required by %[3]s apply. %[3]s apply should only be used on resources created declaratively by either %[3]s create --save-config or %[3]s apply. The missing annotation will be patched automatically.",
			name, corev1.LastAppliedConfigAnnotation, "kubectl"))
	}
	patched, patch, err := threeWay(sent, existing)
	if err != nil {
		return nil, err
	}
	if string(patch) == "{}" {
		res.Outcome, res.Object = Unchanged, withoutGenerated(existing)
		return res, nil
	}
	r, attrs, err := w.authorize(ctx, "PATCH", withQuery(objectPath(a.gvr, obj.GetNamespace(), a.name), writeQuery(clientSideManager, false)))
	res.Requests = append(res.Requests, r)
	i := info(a.gvk, a.gvr, obj.GetNamespace(), a.name)
	wrap := func(err error) error { return whilePatching(patch, i, res.Document.File, err) }
	if err != nil {
		return refusedRequest(res, err, wrap)
	}
	a.op, a.options, a.attrs = admission.Update, updateOptions(clientSideManager), attrs
	if isNamespace(obj) {
		a.namespace = obj.GetName()
	}
	stored, stage, err := w.admit(ctx, a, patched, existing, nil)
	if err != nil {
		return res.refuse(stage, wrap(err)), nil
	}
	return w.accept(res, stored, a, Configured)
}

// threeWay is kubectl's patch of existing towards obj, the manifest as kubectl sends it (with its
// new last-applied annotation), and the object it makes of existing as the API server applies it, then decodes and
// defaults it.
func threeWay(obj, existing *unstructured.Unstructured) (*unstructured.Unstructured, []byte, error) {
	modified, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, nil, err
	}
	current, err := json.Marshal(existing.Object)
	if err != nil {
		return nil, nil, err
	}
	original, err := util.GetOriginalConfiguration(existing)
	if err != nil {
		return nil, nil, err
	}
	var patch, out []byte
	if versioned, err := clientScheme.New(obj.GroupVersionKind()); err == nil {
		meta, err := strategicpatch.NewPatchMetaFromStruct(versioned)
		if err != nil {
			return nil, nil, err
		}
		if patch, err = strategicpatch.CreateThreeWayMergePatch(original, modified, current, meta, true); err != nil {
			return nil, nil, err
		}
		if string(patch) == "{}" {
			return existing, patch, nil
		}
		out, err = strategicpatch.StrategicMergePatch(current, patch, versioned)
		if err != nil {
			return nil, nil, err
		}
	} else if runtime.IsNotRegisteredError(err) {
		preconditions := []mergepatch.PreconditionFunc{mergepatch.RequireKeyUnchanged("apiVersion"), mergepatch.RequireKeyUnchanged("kind"), mergepatch.RequireMetadataKeyUnchanged("name")}
		if patch, err = jsonmergepatch.CreateThreeWayJSONMergePatch(original, modified, current, preconditions...); err != nil {
			return nil, nil, err
		}
		if string(patch) == "{}" {
			return existing, patch, nil
		}
		if out, err = jsonpatch.MergePatch(current, patch); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(out); err != nil {
		return nil, nil, err
	}
	normalized, err := manifest.Normalize(u)
	return normalized, patch, err
}
