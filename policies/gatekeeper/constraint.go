package gatekeeper

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies"
)

// The enforcement points of Gatekeeper, which scoped enforcement actions name.
const (
	WebhookEnforcementPoint = "validation.gatekeeper.sh"
	AuditEnforcementPoint   = "audit.gatekeeper.sh"
	GatorEnforcementPoint   = "gator.gatekeeper.sh"
	allEnforcementPoints    = "*"
)

// constraint is a compiled constraint.
type constraint struct {
	obj     *unstructured.Unstructured
	name    string
	kind    string
	match   *matcher
	params  any // spec.parameters, {} when absent, as Gatekeeper stores it
	actions []policies.Action
}

// decodeConstraint reads a constraint. Its template is checked by the caller.
func decodeConstraint(obj *unstructured.Unstructured, enforcementPoint string) (*constraint, error) {
	c := &constraint{obj: obj, name: obj.GetName(), kind: obj.GetKind()}
	if c.name == "" {
		return nil, errors.New("invalid Constraint: missing metadata.name")
	}
	spec, _, err := unstructured.NestedFieldNoCopy(obj.Object, "spec")
	if err != nil {
		return nil, err
	}
	if spec != nil {
		if _, ok := spec.(map[string]any); !ok {
			return nil, errors.New("spec: must be an object")
		}
	}
	match, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec", "match")
	if c.match, err = compileMatch(match); err != nil {
		return nil, err
	}
	params, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec", "parameters")
	if params == nil {
		params = map[string]any{}
	}
	if _, err := ast.InterfaceToValue(params); err != nil {
		return nil, fmt.Errorf("spec.parameters: %w", err)
	}
	c.params = params
	if c.actions, err = enforcementActions(obj, enforcementPoint); err != nil {
		return nil, err
	}
	return c, nil
}

// enforcementActions reads spec.enforcementAction: deny (the default), warn, dryrun (an audit
// record), or scoped, whose scopedEnforcementActions apply at the named enforcement points.
func enforcementActions(obj *unstructured.Unstructured, point string) ([]policies.Action, error) {
	action, _, err := unstructured.NestedString(obj.Object, "spec", "enforcementAction")
	if err != nil {
		return nil, fmt.Errorf("spec.enforcementAction: %w", err)
	}
	if action != "scoped" {
		a, err := parseAction(action)
		if err != nil {
			return nil, fmt.Errorf("spec.enforcementAction: %w", err)
		}
		return []policies.Action{a}, nil
	}
	scoped, _, err := unstructured.NestedSlice(obj.Object, "spec", "scopedEnforcementActions")
	if err != nil {
		return nil, fmt.Errorf("spec.scopedEnforcementActions: %w", err)
	}
	if len(scoped) == 0 {
		return nil, errors.New("spec.scopedEnforcementActions: required when spec.enforcementAction is scoped")
	}
	var out []policies.Action
	seen := map[policies.Action]bool{}
	for i, s := range scoped {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.scopedEnforcementActions[%d]: must be an object", i)
		}
		name, _ := m["action"].(string)
		a, err := parseAction(name)
		if err != nil || name == "" {
			return nil, fmt.Errorf("spec.scopedEnforcementActions[%d].action: unrecognized enforcement action %q: must be deny, warn or dryrun", i, name)
		}
		points, _ := m["enforcementPoints"].([]any)
		for _, p := range points {
			pm, _ := p.(map[string]any)
			pn, _ := pm["name"].(string)
			if (pn == allEnforcementPoints || pn == point) && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func parseAction(s string) (policies.Action, error) {
	switch s {
	case "", "deny":
		return policies.Deny, nil
	case "warn":
		return policies.Warn, nil
	case "dryrun":
		return policies.Audit, nil
	}
	return "", fmt.Errorf("unrecognized enforcement action %q: must be deny, warn, dryrun or scoped", s)
}

// templateName is the name of the template that defines a constraint kind: its lower case.
func templateName(kind string) string { return strings.ToLower(kind) }

// ErrSchema is the error of a constraint whose parameters do not fit its template's schema.
var ErrSchema = errors.New("schema validation failed")

// ErrInvalidConstraint is the error of a constraint that Gatekeeper refuses for another reason than its
// schema: fields its template's schema does not know.
var ErrInvalidConstraint = errors.New("invalid Constraint")
