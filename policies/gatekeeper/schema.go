package gatekeeper

import (
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// compileSchema compiles the template's parameter schema into the validator the API server would
// run on its constraints.
func (ct *compiledTemplate) compileSchema() error {
	if ct.schema == nil {
		return nil
	}
	var v1 apiextensionsv1.JSONSchemaProps
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(ct.schema, &v1); err != nil {
		return fmt.Errorf("spec.crd.spec.validation.openAPIV3Schema: %w", err)
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &internal, nil); err != nil {
		return fmt.Errorf("spec.crd.spec.validation.openAPIV3Schema: %w", err)
	}
	v, _, err := validation.NewSchemaValidator(&internal)
	if err != nil {
		return fmt.Errorf("spec.crd.spec.validation.openAPIV3Schema: %w", err)
	}
	ct.validator = v
	if ct.structural, err = structuralschema.NewStructural(&internal); err != nil {
		return fmt.Errorf("spec.crd.spec.validation.openAPIV3Schema: %w", err)
	}
	return nil
}

// checkParameters validates a constraint's spec.parameters against the template's schema, as the API
// server validates a constraint against the CRD Gatekeeper makes of the template.
//
// Fields the schema does not know are refused too, as Gatekeeper's constraint client refuses them
// (frameworks pkg/client/crds.ValidateCR: "invalid Constraint: unknown fields: [...]"; gator test and
// gator verify fail on them) and as kubectl apply's strict field validation does: a template without
// a schema takes no parameters at all.
func (ct *compiledTemplate) checkParameters(c *constraint) error {
	params, found, _ := unstructured.NestedFieldNoCopy(c.obj.Object, "spec", "parameters")
	if !found {
		return nil
	}
	if ct.validator == nil {
		return fmt.Errorf("%w: unknown fields: [spec.parameters]", ErrInvalidConstraint)
	}
	if params == nil {
		return nil
	}
	if errs := validation.ValidateCustomResource(field.NewPath("spec", "parameters"), params, ct.validator); len(errs) > 0 {
		return fmt.Errorf("%w: %v", ErrSchema, errs.ToAggregate())
	}
	if ct.structural == nil {
		return nil
	}
	unknown := pruning.PruneWithOptions(runtime.DeepCopyJSONValue(params), ct.structural, false,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true, ParentPath: []string{"spec", ".parameters"}})
	if len(unknown) > 0 {
		return fmt.Errorf("%w: unknown fields: %v", ErrInvalidConstraint, unknown)
	}
	return nil
}
