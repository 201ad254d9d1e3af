package simulate

import (
	"fmt"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"
	crdserverscheme "k8s.io/apiextensions-apiserver/pkg/crdserverscheme"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var crdGVR = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// customKind is how the API server serves one version of a custom resource, from its
// CustomResourceDefinition (k8s.io/apiextensions-apiserver's crdHandler, getOrCreateServingInfoFor):
// the structural schema that prunes and defaults the objects it decodes, and the registry strategy
// that validates them against the OpenAPI schema and the x-kubernetes-validations rules.
type customKind struct {
	// structural is nil for a version without a schema.
	structural            *structuralschema.Structural
	preserveUnknownFields bool
	strategy              strategy
	// typeConverter is the structured-merge schema of server-side apply (nil: none could be built).
	typeConverter managedfields.TypeConverter
	fields        *managedfields.FieldManager // made when first needed
}

// customKinds are the custom resources' kinds of the world, made from its CRDs when first needed
// and made again when a CRD changes (by its resource version).
type customKinds struct {
	kinds   map[schema.GroupVersionKind]*customKind
	version map[string]string // CRD name → resource version the kinds were made of
}

// customKind is the serving of gvk by a CRD of the world, or nil when no CRD serves it.
func (w *world) customKind(gvk schema.GroupVersionKind) (*customKind, error) {
	if scheme.Recognizes(gvk) {
		return nil, nil
	}
	if w.custom.kinds == nil {
		w.custom = customKinds{kinds: map[schema.GroupVersionKind]*customKind{}, version: map[string]string{}}
	}
	for k, obj := range w.objects {
		if k.Group != crdGVR.Group || k.Resource != crdGVR.Resource || w.custom.version[k.Name] == obj.GetResourceVersion() {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, crd); err != nil {
			return nil, fmt.Errorf("CustomResourceDefinition %q: %w", obj.GetName(), err)
		}
		for _, v := range crd.Spec.Versions {
			kind, err := newCustomKind(crd, v.Name)
			if err != nil {
				return nil, fmt.Errorf("CustomResourceDefinition %q: version %s: %w", crd.Name, v.Name, err)
			}
			w.custom.kinds[schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}] = kind
		}
		w.custom.version[k.Name] = obj.GetResourceVersion()
	}
	return w.custom.kinds[gvk], nil
}

// newCustomKind is what the API server builds to serve a version of a CRD.
func newCustomKind(crd *apiextensionsv1.CustomResourceDefinition, version string) (*customKind, error) {
	validation, err := apiextensionshelpers.GetSchemaForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	subresources, err := apiextensionshelpers.GetSubresourcesForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	k := &customKind{preserveUnknownFields: crd.Spec.PreserveUnknownFields}
	var props *apiextensionsinternal.JSONSchemaProps
	if validation != nil {
		internal := &apiextensionsinternal.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(validation, internal, nil); err != nil {
			return nil, err
		}
		props = internal.OpenAPIV3Schema
		if k.structural, err = structuralschema.NewStructural(props); err != nil {
			return nil, fmt.Errorf("the schema is not structural: %w", err)
		}
		if !crd.Spec.PreserveUnknownFields {
			k.structural = k.structural.DeepCopy()
			if err := structuraldefaulting.PruneDefaults(k.structural); err != nil {
				return nil, err
			}
		}
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(props)
	if err != nil {
		return nil, err
	}
	var status *apiextensionsinternal.CustomResourceSubresourceStatus
	var statusValidator apiservervalidation.SchemaValidator
	var scale *apiextensionsinternal.CustomResourceSubresourceScale
	if subresources != nil && subresources.Status != nil {
		status = &apiextensionsinternal.CustomResourceSubresourceStatus{}
		if props != nil && props.Properties != nil {
			if s, ok := props.Properties["status"]; ok {
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&s); err != nil {
					return nil, err
				}
			}
		}
	}
	if subresources != nil && subresources.Scale != nil {
		scale = &apiextensionsinternal.CustomResourceSubresourceScale{}
		if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(subresources.Scale, scale, nil); err != nil {
			return nil, err
		}
	}
	var selectable []apiextensionsv1.SelectableField
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			selectable = v.SelectableFields
		}
	}
	if openAPI, err := builder.BuildOpenAPIV3(crd, version, builder.Options{}); err == nil {
		if merged, err := builder.MergeSpecsV3(openAPI); err == nil {
			k.typeConverter, _ = managedfields.NewTypeConverter(merged.Components.Schemas, crd.Spec.PreserveUnknownFields)
		}
	}
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.Kind}
	k.strategy = customresource.NewStrategy(crdserverscheme.NewUnstructuredObjectTyper(), crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		gvk, validator, statusValidator, k.structural, status, scale, selectable)
	return k, nil
}

// decode is what the API server's decoder for the kind does to a request's object
// (unstructuredSchemaCoercer, then the defaulter): it drops the fields the schema does not declare
// and fills in its defaults. With kubectl's fieldValidation=Strict, undeclared fields are an error,
// worded as the create handler words a decoding error (transformDecodeError), or for a PATCH
// (patched, the patched object as JSON) as the JSON patcher words it (applyPatchToCurrentObject).
func (k *customKind) decode(obj *unstructured.Unstructured, patched []byte) error {
	gvk := obj.GroupVersionKind()
	unknown, err := k.coerce(obj)
	if err == nil && len(unknown) > 0 {
		errs := make([]error, len(unknown))
		for i, path := range unknown {
			errs[i] = fmt.Errorf(`unknown field "%s"`, path)
		}
		err = runtime.NewStrictDecodingError(errs)
	}
	switch {
	case err != nil && patched != nil:
		return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{field.Invalid(field.NewPath("patch"), string(patched), err.Error())})
	case err != nil:
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
	}
	if k.structural != nil {
		structuraldefaulting.Default(obj.Object, k.structural)
	}
	return nil
}

// coerce is unstructuredSchemaCoercer.apply of the API server: the object's metadata kept as the
// ObjectMeta type keeps it, the fields the schema does not declare pruned; it returns their paths.
func (k *customKind) coerce(obj *unstructured.Unstructured) ([]string, error) {
	kind, apiVersion := obj.GetKind(), obj.GetAPIVersion()
	objectMeta, found, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	if k.structural != nil {
		if !k.preserveUnknownFields {
			unknown = append(unknown, structuralpruning.PruneWithOptions(obj.Object, k.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
			structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj.Object, k.structural)
		}
		ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, obj.Object, k.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
		if ferr != nil {
			return nil, ferr
		}
		unknown = append(unknown, paths...)
	}
	obj.SetKind(kind)
	obj.SetAPIVersion(apiVersion)
	if found {
		if err := schemaobjectmeta.SetObjectMeta(obj.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}
