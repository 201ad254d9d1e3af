package bundle

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies"
)

// Mutation is what the mutating policies did to a request's object.
type Mutation struct {
	// Object is the object after every mutation; the request's own object when nothing changed.
	Object *unstructured.Unstructured
	// Patch is the RFC 6902 patch from the request's object to Object; empty when nothing changed.
	Patch []jsonpatch.Operation
	// Findings are mutating policies that refuse the request (an error under failurePolicy Fail).
	Findings []policies.Finding
	// Refusal is the error kube-apiserver's MutatingAdmissionPolicy plugin returns for Findings.
	Refusal error
	// Errors are patch rules that failed to evaluate or apply.
	Errors []error
}

// Changed reports whether the object was changed.
func (m *Mutation) Changed() bool { return len(m.Patch) > 0 }

// Mutate runs the mutating policies in kube-apiserver's order: MutatingAdmissionPolicies first (with
// their reinvocation), then the Rego patch rules, which in the cluster come from verdict's mutating
// webhook. The request is not changed. A refused request keeps its object.
func (b *Bundle) Mutate(ctx context.Context, req *policies.Request) Mutation {
	m := Mutation{Object: req.Object}
	if req.Object == nil || req.Operation == policies.Delete || req.Operation == policies.Connect {
		return m
	}
	res := b.vap.Mutate(ctx, req)
	if len(res.Findings) > 0 {
		m.Findings, m.Refusal = res.Findings, res.Refusal
		return m
	}
	after := *req
	after.Object = res.Object
	obj, errs := b.rego.Mutate(ctx, &after)
	if len(errs) > 0 {
		m.Errors = errs
		return m
	}
	if equality.Semantic.DeepEqual(req.Object.Object, obj.Object) {
		return m
	}
	patch, err := Diff(req.Object, obj)
	if err != nil {
		m.Errors = []error{err}
		return m
	}
	m.Object, m.Patch = obj, patch
	return m
}

// Diff returns the RFC 6902 patch that turns from into to.
func Diff(from, to *unstructured.Unstructured) ([]jsonpatch.Operation, error) {
	a, err := json.Marshal(from.Object)
	if err != nil {
		return nil, err
	}
	z, err := json.Marshal(to.Object)
	if err != nil {
		return nil, err
	}
	ops, err := jsonpatch.CreatePatch(a, z)
	if err != nil {
		return nil, fmt.Errorf("computing the patch: %w", err)
	}
	return ops, nil
}
