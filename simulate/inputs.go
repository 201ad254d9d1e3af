package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/rbacsim"
)

// Paths are where a simulation's inputs are read from, as the command line names them.
type Paths struct {
	// Files are the manifests applied (-f); Existing the cluster's other objects (--existing).
	Files, Existing []string
	// RBAC are the cluster's RBAC manifests (--rbac); WithDefaults adds a new cluster's.
	RBAC         []string
	WithDefaults bool
	// Policies are the cluster's admission policies (-p); none when empty.
	Policies []string
	// As and AsGroups are the user, as kubectl's --as and --as-group.
	As         string
	AsGroups   []string
	ServerSide bool
	// Request says that Files is the body of a raw request (--request --body), which may be absent.
	Request bool
	Stdin   io.Reader
}

// Inputs are what Read found: the documents to apply, the options of Run, and notes on what was
// skipped.
type Inputs struct {
	Documents []manifest.Document
	Options   Options
	Notes     []string
}

// Read reads every input of a simulation. Every document that cannot be read is an error naming its
// file and document, all of them joined.
func Read(ctx context.Context, p Paths) (*Inputs, error) {
	if len(p.Files) == 0 && !p.Request {
		return nil, errors.New("no manifests given: name files or folders with -f, or -f - for standard input")
	}
	u, err := rbacsim.Impersonate(p.As, p.AsGroups)
	if err != nil {
		return nil, err
	}
	in := &Inputs{Options: Options{User: u, ServerSide: p.ServerSide}}
	var errs []error
	read := func(paths []string) []manifest.Document {
		if len(paths) == 0 {
			return nil
		}
		set := manifest.Read(paths, p.Stdin)
		in.Notes = append(in.Notes, set.Notes...)
		if err := set.Err(); err != nil {
			errs = append(errs, err)
		}
		return set.Documents
	}
	in.Documents = read(p.Files)
	if p.Request && len(in.Documents) > 1 {
		errs = append(errs, fmt.Errorf("--body %v: holds %d objects, a request sends one", p.Files, len(in.Documents)))
	}
	in.Options.Existing = read(p.Existing)
	if len(p.Files) > 0 && len(in.Documents) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%v: no objects found", p.Files))
	}
	if in.Options.RBAC, err = readRBAC(p); err != nil {
		errs = append(errs, err)
	}
	if cluster := clusterPolicies(in.Options.Existing); len(p.Policies) > 0 || len(cluster) > 0 {
		objects := append(append([]manifest.Document(nil), in.Documents...), in.Options.Existing...)
		b, err := bundle.Load(ctx, bundle.Options{Paths: p.Policies, Stdin: p.Stdin, Objects: objects, ClusterPolicies: cluster, AllowEmpty: len(p.Policies) == 0})
		if err != nil {
			errs = append(errs, err)
		} else {
			in.Options.Policies, in.Options.Resources = b, b.Resources()
			in.Notes = append(in.Notes, b.Notes...)
		}
	}
	if in.Options.Resources == nil {
		in.Options.Resources = resourcesOf(in.Documents, in.Options.Existing)
	}
	return in, errors.Join(errs...)
}

// clusterPolicies are the admission policies among the cluster's objects that kube-apiserver itself
// enforces: ValidatingAdmissionPolicies and MutatingAdmissionPolicies, and their bindings. (A
// policy that the apply itself creates is not in force for the rest of it: the API server's policy
// informers see it a moment later.)
func clusterPolicies(existing []manifest.Document) []manifest.Document {
	var out []manifest.Document
	for _, d := range existing {
		gvk := d.Object.GroupVersionKind()
		if gvk.Group == "admissionregistration.k8s.io" && admissionPolicyKinds[gvk.Kind] {
			out = append(out, d)
		}
	}
	return out
}

var admissionPolicyKinds = map[string]bool{
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
}

// readRBAC reads the cluster's RBAC objects: a new cluster's with --with-defaults, then --rbac.
func readRBAC(p Paths) (*rbacsim.Objects, error) {
	objs := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	if p.WithDefaults {
		defaults, err := rbacsim.DefaultObjects()
		if err != nil {
			return nil, err
		}
		objs.Append(defaults)
	}
	if len(p.RBAC) > 0 {
		read, err := rbacsim.ReadPaths(p.RBAC, p.Stdin)
		if err != nil {
			return nil, fmt.Errorf("--rbac: %w", err)
		}
		objs.Append(read)
	}
	return objs, nil
}

// resourcesOf is the built-in kinds and those of the CRDs among docs.
func resourcesOf(docs ...[]manifest.Document) *manifest.Resources {
	r := manifest.BuiltinResources()
	for _, list := range docs {
		for _, d := range list {
			if manifest.IsCRD(d.Object) {
				_ = r.AddCRD(d.Object) // a broken CRD is reported when it is applied
			}
		}
	}
	return r
}
