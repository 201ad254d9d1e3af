package gatekeeper

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies"
)

// Selects lists the templates, each with each of its constraints, whose match block takes objects
// of r by their kind and scope (spec.match.kinds and scope; a constraint without them takes every
// kind). The other criteria look at each object, so a constraint listed may still leave some
// objects alone; one not listed judges none. Gatekeeper judges every operation alike, so the
// operation does not matter.
func (s *Set) Selects(r policies.Resource, _ policies.Operation) []policies.Ref {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(r.Kind)
	if r.Namespaced {
		obj.SetNamespace("namespace") // any: scope only asks whether there is one
	}
	return s.refs(func(c *constraint) bool {
		return c.match == nil || (c.match.kindsMatch(obj) && c.match.scopeMatch(obj, nil))
	})
}

// Refs lists every template with each of its constraints, in the order they judge.
func (s *Set) Refs() []policies.Ref {
	return s.refs(func(*constraint) bool { return true })
}

func (s *Set) refs(keep func(*constraint) bool) []policies.Ref {
	var out []policies.Ref
	for _, ct := range s.templates {
		engine := policies.Rego
		if ct.cel != nil {
			engine = policies.CEL
		}
		for _, c := range ct.constraints {
			if keep(c) {
				out = append(out, policies.Ref{Policy: ct.name, Binding: c.name, Engine: engine, Format: FindingFormat})
			}
		}
	}
	return out
}
