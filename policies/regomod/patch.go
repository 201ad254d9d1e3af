package regomod

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies"
)

// Mutate applies every package's patch rules to the request's object, package by package in name
// order, each package seeing the object as the packages before it left it. A patch rule's values are
// RFC 6902 operations, or lists of them; the operations of one package are applied in the order
// Rego gives a set's values (its sort order), so the result is deterministic.
// A patch that does not apply is an error, as the API server refuses such a webhook response.
func (s *Set) Mutate(ctx context.Context, req *policies.Request) (*unstructured.Unstructured, []error) {
	obj := req.Object
	if obj == nil {
		return nil, nil
	}
	var errs []error
	for _, p := range s.packages {
		if p.patches == nil {
			continue
		}
		cur := *req
		cur.Object = obj
		in := &inputs{req: &cur}
		input, err := in.get(p.admission)
		if err != nil {
			errs = append(errs, fmt.Errorf("package %s: input: %w", p.name, err))
			continue
		}
		values, err := p.patches.Eval(ctx, input)
		if err != nil {
			errs = append(errs, fmt.Errorf("package %s: rule patch: %w", p.name, err))
			continue
		}
		ops, err := operations(values)
		if err != nil {
			errs = append(errs, fmt.Errorf("package %s: rule patch: %w", p.name, err))
			continue
		}
		if len(ops) == 0 {
			continue
		}
		next, err := apply(obj, ops)
		if err != nil {
			errs = append(errs, fmt.Errorf("package %s: rule patch: %w", p.name, err))
			continue
		}
		obj = next
	}
	return obj, errs
}

// operations flattens patch values into a JSON array of operations.
func operations(values []any) ([]byte, error) {
	var ops []any
	for _, v := range values {
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a set or array of JSON patch operations, not %T", v)
		}
		for _, it := range items {
			switch op := it.(type) {
			case map[string]any:
				ops = append(ops, op)
			case []any:
				ops = append(ops, op...)
			default:
				return nil, fmt.Errorf("each value must be a JSON patch operation (an object with op and path), not %v", it)
			}
		}
	}
	for _, op := range ops {
		m, ok := op.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("each value must be a JSON patch operation, not %v", op)
		}
		if _, ok := m["op"].(string); !ok {
			return nil, fmt.Errorf("operation %v has no op", m)
		}
		if _, ok := m["path"].(string); !ok {
			return nil, fmt.Errorf("operation %v has no path", m)
		}
	}
	return json.Marshal(ops)
}

func apply(obj *unstructured.Unstructured, ops []byte) (*unstructured.Unstructured, error) {
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		return nil, err
	}
	doc, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("applying %s: %w", ops, err)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(patched); err != nil {
		return nil, fmt.Errorf("patched object: %w", err)
	}
	return out, nil
}
