package source

import (
	"context"
	"slices"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// Extra is what a policy set holds besides its files: the policies, params, Namespaces and
// inventory read from a cluster.
type Extra struct {
	// Policies are policy objects: ValidatingAdmissionPolicies, MutatingAdmissionPolicies and their
	// bindings, ConstraintTemplates and constraints. One that does not compile is left out of the set
	// and logged, naming it; the others are put in force.
	Policies []*unstructured.Unstructured
	// Objects are what the policies read: Namespaces and params.
	Objects []manifest.Document
	// Inventory is what Gatekeeper templates see in data.inventory.
	Inventory []manifest.Document
}

// add adds an object of kind gvk, read from the cluster, where its roles say.
func (extra *Extra) add(obj *unstructured.Unstructured, gvk schema.GroupVersionKind, roles role) {
	obj.SetGroupVersionKind(gvk) // a list's items may come without
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	if roles&rolePolicy != 0 {
		policy := obj.DeepCopy()
		unstructured.RemoveNestedField(policy.Object, "status")
		extra.Policies = append(extra.Policies, policy)
	}
	if roles&roleObject != 0 {
		extra.Objects = append(extra.Objects, manifest.Document{File: ClusterFile, Index: len(extra.Objects) + 1, Object: obj})
	}
	if roles&roleInventory != 0 {
		extra.Inventory = append(extra.Inventory, manifest.Document{File: ClusterFile, Index: len(extra.Inventory) + 1, Object: obj})
	}
}

// ClusterFile is the File of the Objects and Inventory documents that come from a cluster.
const ClusterFile = "cluster"

// Compile compiles the policies of opts with the extra ones (nil: none), as a PolicySet loads them,
// and returns the extra policies left out, each with its error. An extra policy that does not
// compile is left out, logged, and the rest compiled again; an error that names no extra policy
// fails the load.
func Compile(ctx context.Context, opts bundle.Options, extra *Extra, log logr.Logger) (*bundle.Bundle, []string, error) {
	if extra == nil {
		b, err := bundle.Load(ctx, opts)
		return b, nil, err
	}
	opts.Objects = append(slices.Clip(opts.Objects), extra.Objects...)
	opts.Inventory = append(slices.Clip(opts.Inventory), extra.Inventory...)
	pols := extra.Policies
	var skipped []string
	for {
		withPolicies, file, err := withPolicies(opts, pols)
		if err != nil {
			return nil, skipped, err
		}
		b, err := bundle.Load(ctx, withPolicies)
		if err == nil {
			return b, skipped, nil
		}
		bad := policyErrors(err, file)
		if len(bad) == 0 {
			return nil, skipped, err
		}
		kept := make([]*unstructured.Unstructured, 0, len(pols))
		for i, p := range pols {
			if perr, ok := bad[i+1]; ok {
				msg := "cluster: " + perr.Error()
				skipped = append(skipped, msg)
				log.Error(perr, "leaving out a cluster policy that does not compile", "policy", describeObject(p))
				continue
			}
			kept = append(kept, p)
		}
		pols = kept
	}
}

// withPolicies adds the policy objects to opts as documents of the file "cluster", and returns that
// name, as the bundle's errors give it.
func withPolicies(opts bundle.Options, pols []*unstructured.Unstructured) (bundle.Options, string, error) {
	if len(pols) == 0 {
		return opts, "", nil
	}
	docs := make([]manifest.Document, len(pols))
	for i, p := range pols {
		docs[i] = manifest.Document{File: ClusterFile, Index: i + 1, Object: p}
	}
	opts.Policies = append(slices.Clip(opts.Policies), docs...)
	return opts, ClusterFile, nil
}

// policyErrors finds, in a bundle's error, those about documents of file, by document index.
func policyErrors(err error, file string) map[int]error {
	out := map[int]error{}
	var walk func(error)
	walk = func(err error) {
		if me, ok := err.(*manifest.Error); ok && me.File == file && me.Document > 0 {
			if _, seen := out[me.Document]; !seen {
				out[me.Document] = me.Err
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if inner := u.Unwrap(); inner != nil {
				walk(inner)
			}
		}
	}
	if file != "" {
		walk(err)
	}
	return out
}

// describeObject names an object for logs: `ValidatingAdmissionPolicy "x"`, with its namespace if it has one.
func describeObject(obj *unstructured.Unstructured) string {
	name := obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return obj.GetKind() + ` "` + name + `"`
}
