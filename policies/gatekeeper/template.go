package gatekeeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The API groups, kinds and names of Gatekeeper.
const (
	TemplateGroup   = "templates.gatekeeper.sh"
	ConstraintGroup = "constraints.gatekeeper.sh"
	KindTemplate    = "ConstraintTemplate"
	// Target is the only target Gatekeeper's Kubernetes templates may declare.
	Target = "admission.k8s.gatekeeper.sh"
	// CodeRego and CodeCEL are the engines a code block of a template names.
	CodeRego = "Rego"
	CodeCEL  = "K8sNativeValidation"
	// FindingFormat is the Format of this format's findings.
	FindingFormat = "ConstraintTemplate"
)

// templateVersions are the served versions of ConstraintTemplate.
var templateVersions = map[string]bool{"v1": true, "v1beta1": true, "v1alpha1": true}

// Handles reports whether obj is a document of this format: a ConstraintTemplate or a constraint.
// Whether a constraint's kind is defined by a template is known only when compiling.
func Handles(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	switch gvk.Group {
	case TemplateGroup:
		return gvk.Kind == KindTemplate && templateVersions[gvk.Version]
	case ConstraintGroup:
		return true
	}
	return false
}

// templateDoc is the part of a ConstraintTemplate that verdict reads.
type templateDoc struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		CRD struct {
			Spec struct {
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Validation *struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					LegacySchema    *bool          `json:"legacySchema"`
				} `json:"validation"`
			} `json:"spec"`
		} `json:"crd"`
		Targets []targetDoc `json:"targets"`
	} `json:"spec"`
}

type targetDoc struct {
	Target string    `json:"target"`
	Rego   string    `json:"rego"`
	Libs   []string  `json:"libs"`
	Code   []codeDoc `json:"code"`
}

type codeDoc struct {
	Engine string          `json:"engine"`
	Source json.RawMessage `json:"source"`
}

// regoSource is the source of a Rego code block (and of the legacy rego and libs fields).
type regoSource struct {
	Rego    string   `json:"rego"`
	Libs    []string `json:"libs"`
	Version string   `json:"version"`
	// path is the field path of the block, for messages.
	path string
}

// celSource is the source of a K8sNativeValidation code block, in ValidatingAdmissionPolicy's shape.
type celSource struct {
	Validations []struct {
		Expression        string `json:"expression"`
		Message           string `json:"message"`
		MessageExpression string `json:"messageExpression"`
	} `json:"validations"`
	FailurePolicy   *string        `json:"failurePolicy"`
	MatchCondition  []celNamedExpr `json:"matchCondition"`
	MatchConditions []celNamedExpr `json:"matchConditions"`
	Variables       []celNamedExpr `json:"variables"`
	path            string
}

type celNamedExpr struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// template is a decoded, checked ConstraintTemplate.
type template struct {
	name   string
	kind   string
	schema map[string]any // spec.crd.spec.validation.openAPIV3Schema, nil if none
	rego   *regoSource
	cel    *celSource
}

// decodeTemplate reads and checks a ConstraintTemplate as Gatekeeper's constraint framework does.
func decodeTemplate(obj *unstructured.Unstructured) (*template, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	var doc templateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid ConstraintTemplate: %w", err)
	}
	t := &template{name: doc.Metadata.Name, kind: doc.Spec.CRD.Spec.Names.Kind}
	if t.name == "" {
		return nil, errors.New("metadata.name is required")
	}
	if t.kind == "" {
		return nil, errors.New("spec.crd.spec.names.kind is required")
	}
	if !strings.EqualFold(t.name, t.kind) {
		return nil, fmt.Errorf("the ConstraintTemplate's name %q is not equal to the lowercase of CRD's Kind: %q", t.name, strings.ToLower(t.kind))
	}
	if v := doc.Spec.CRD.Spec.Validation; v != nil {
		t.schema = v.OpenAPIV3Schema
	}
	if len(doc.Spec.Targets) != 1 {
		return nil, fmt.Errorf("spec.targets: must declare exactly one target, not %d", len(doc.Spec.Targets))
	}
	tgt := doc.Spec.Targets[0]
	if tgt.Target != Target {
		return nil, fmt.Errorf("spec.targets[0].target: target %q not recognized, known targets [%s]", tgt.Target, Target)
	}
	for i, c := range tgt.Code {
		path := fmt.Sprintf("spec.targets[0].code[%d].source", i)
		switch c.Engine {
		case CodeRego:
			if t.rego != nil {
				continue // Gatekeeper uses the first block of an engine
			}
			src := &regoSource{path: path}
			if err := decodeSource(c.Source, src); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if src.Rego == "" {
				return nil, fmt.Errorf("%s.rego: rego source missing required field", path)
			}
			switch src.Version {
			case "", "v0", "v1":
			default:
				return nil, fmt.Errorf("%s.version: unsupported Rego version %q: must be v0 or v1", path, src.Version)
			}
			t.rego = src
		case CodeCEL:
			if t.cel != nil {
				continue
			}
			src := &celSource{path: path}
			if err := decodeSource(c.Source, src); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			src.MatchCondition = append(src.MatchCondition, src.MatchConditions...)
			src.MatchConditions = nil
			t.cel = src
		}
	}
	// The legacy rego and libs fields of a target are a Rego code block.
	if t.rego == nil && tgt.Rego != "" {
		t.rego = &regoSource{Rego: tgt.Rego, Libs: tgt.Libs, path: "spec.targets[0]"}
	}
	if t.rego == nil && t.cel == nil {
		return nil, errors.New("spec.targets[0]: no Rego or K8sNativeValidation code: a template needs rego or a code block")
	}
	return t, nil
}

func decodeSource(raw json.RawMessage, into any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New("source is required")
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("could not recognize the source: %w", err)
	}
	return nil
}
