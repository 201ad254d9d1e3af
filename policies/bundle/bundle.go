package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/gatekeeper"
	vrego "github.com/verdict-dev/verdict/policies/rego"
	"github.com/verdict-dev/verdict/policies/regomod"
	"github.com/verdict-dev/verdict/policies/vap"
)

// Options say where the policies come from and what else they may read.
type Options struct {
	// Paths are files and folders of policies; "-" is Stdin. Empty means the embedded library.
	Paths []string
	Stdin io.Reader
	// Library is the policy set used when Paths is empty. Without it (nil), the set is Policies alone:
	// none is an error unless AllowEmpty.
	Library fs.FS
	// Objects are further objects the policies may read: params, Namespaces and CRDs among the
	// inputs of `verdict check`.
	Objects []manifest.Document
	// Inventory are the objects Gatekeeper templates see in data.inventory.
	Inventory []manifest.Document
	// AllowedBuiltins are Rego builtins that reach outside the evaluation and that the operator allows.
	AllowedBuiltins []string
	// Policies are further policy documents, compiled after those of Paths or Library: the policies
	// the webhook reads from a cluster.
	Policies []manifest.Document
	// ClusterPolicies are the admission policies a cluster holds (simulate's --existing), compiled
	// with those of Paths or Policies, less any that those define too (the same kind and name),
	// which the given one replaces.
	ClusterPolicies []manifest.Document
	// AllowEmpty accepts a path of Paths that yields no policy file.
	AllowEmpty bool
	// AsWritten gives Gatekeeper templates the namespaces that gator test gives them: an object that
	// names no namespace is in an empty Namespace, as check --as-written judges objects as gator does.
	AsWritten bool
}

// source is what the policy paths hold: manifests and Rego modules.
type source struct {
	docs    []manifest.Document
	modules []vrego.Module
	notes   []string
}

// Bundle is a compiled policy set. It is immutable and safe for concurrent use.
type Bundle struct {
	resources *manifest.Resources
	store     *policies.Store
	vap       *vap.Set
	rego      *regomod.Set
	gk        *gatekeeper.Set
	// paramKinds are the kinds the policies take params of.
	paramKinds map[schema.GroupVersionKind]bool
	// Warnings are things about the policies worth telling the user, such as a binding without its
	// policy. They are not errors.
	Warnings []string
	// Notes say which files among the policy paths were skipped.
	Notes []string
	// Policies counts the compiled policies of each format, for logs and readiness.
	Policies int
}

// Load reads and compiles a policy set.
func Load(ctx context.Context, opts Options) (*Bundle, error) {
	src, err := readPolicies(opts)
	if err != nil {
		return nil, err
	}
	src.docs = append(src.docs, opts.Policies...)
	src.docs = append(src.docs, notDefinedIn(src.docs, opts.ClusterPolicies)...)
	b, err := compile(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	b.Notes = src.notes
	return b, nil
}

// notDefinedIn are the documents of more whose kind and name no document of docs has.
func notDefinedIn(docs, more []manifest.Document) []manifest.Document {
	if len(more) == 0 {
		return nil
	}
	defined := map[[3]string]bool{}
	key := func(d manifest.Document) [3]string {
		return [3]string{d.Object.GroupVersionKind().Group, d.Object.GetKind(), d.Object.GetName()}
	}
	for _, d := range docs {
		defined[key(d)] = true
	}
	var out []manifest.Document
	for _, d := range more {
		if !defined[key(d)] {
			out = append(out, d)
		}
	}
	return out
}

// compile compiles what the policy paths hold, with the further objects of opts.
func compile(ctx context.Context, src *source, opts Options) (*Bundle, error) {
	docs, objects := src.docs, opts.Objects
	b := &Bundle{resources: manifest.BuiltinResources(), store: policies.NewStore()}
	var errs []error
	all := append(append([]manifest.Document(nil), docs...), objects...)
	var crds []*unstructured.Unstructured
	for _, d := range all {
		if manifest.IsCRD(d.Object) {
			if err := b.resources.AddCRD(d.Object); err != nil {
				errs = append(errs, d.Wrap(err))
				continue
			}
			crds = append(crds, d.Object)
		}
	}
	for _, d := range all {
		if !isPolicyKind(d) {
			b.store.Add(d.Object)
		}
	}
	set, warnings, err := vap.Compile(docs, vap.Options{Resources: b.resources, Store: b.store, CRDs: crds})
	if err != nil {
		errs = append(errs, err)
	}
	b.vap = set
	b.Warnings = append(b.Warnings, warnings...)
	b.rego, err = regomod.Compile(ctx, src.modules, regomod.Options{AllowedBuiltins: opts.AllowedBuiltins})
	if err != nil {
		errs = append(errs, err)
	} else {
		b.Warnings = append(b.Warnings, b.rego.Warnings()...)
	}
	inventory := make([]*unstructured.Unstructured, 0, len(opts.Inventory))
	for _, d := range opts.Inventory {
		inventory = append(inventory, d.Object)
	}
	if opts.AsWritten {
		// gator test puts every object it reads in data.inventory, its templates and constraints too.
		for _, d := range docs {
			inventory = append(inventory, d.Object)
		}
	}
	// Templates with both a Rego and a K8sNativeValidation block are judged by CEL, as Gatekeeper does
	// by default.
	var gkNamespaces gatekeeper.NamespaceGetter
	if opts.AsWritten {
		gkNamespaces = gatekeeper.GatorTestNamespaces(inventory)
	}
	gk, gkWarnings, err := gatekeeper.Compile(ctx, docs, gatekeeper.Options{
		Store: b.store, Namespaces: gkNamespaces, Inventory: inventory, AllowedBuiltins: opts.AllowedBuiltins, Engine: gatekeeper.PreferCEL,
	})
	if err != nil {
		errs = append(errs, err)
	}
	b.gk = gk
	b.Warnings = append(b.Warnings, gkWarnings...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	b.Policies = set.Len() + b.rego.Len() + b.gk.Len()
	b.paramKinds = set.ParamKinds()
	return b, nil
}

func isPolicyKind(d manifest.Document) bool {
	return vap.Handles(d.Object) || gatekeeper.Handles(d.Object)
}

// readPolicies reads every policy file of the options. A path that yields nothing (an empty folder,
// a folder of other files, an empty file) is an error unless AllowEmpty: a check that judged with no
// policy must not pass.
func readPolicies(opts Options) (*source, error) {
	if len(opts.Paths) == 0 {
		if opts.Library == nil {
			if len(opts.Policies) > 0 || opts.AllowEmpty {
				return &source{}, nil // the further Policies only (verdict audit's, from a cluster)
			}
			return nil, errors.New("no policies: give --policies or build with the embedded library")
		}
		return readFS(opts.Library)
	}
	src := &source{}
	var errs []error
	for _, p := range opts.Paths {
		files, notes, err := manifest.Files([]string{p}, isPolicyFile)
		src.notes = append(src.notes, notes...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		before := len(src.docs) + len(src.modules)
		for _, f := range files {
			if isRego(f.Path) {
				data, err := manifest.ReadBytes(f.Path, opts.Stdin)
				if err != nil {
					errs = append(errs, &manifest.Error{File: f.Path, Err: err})
					continue
				}
				src.modules = append(src.modules, vrego.Module{Filename: f.Path, Source: string(data)})
				continue
			}
			set := manifest.ReadFile(f, opts.Stdin)
			src.docs = append(src.docs, set.Documents...)
			src.notes = append(src.notes, set.Notes...)
			if err := set.Err(); err != nil {
				errs = append(errs, err)
			}
		}
		if len(src.docs)+len(src.modules) == before && len(errs) == 0 && !opts.AllowEmpty {
			errs = append(errs, fmt.Errorf("%s: no policies found (looked for .yaml, .yml, .json and .rego files)", p))
		}
	}
	return src, errors.Join(errs...)
}

func isPolicyFile(p string) bool { return manifest.IsManifestFile(p) || isRego(p) }

func isRego(p string) bool { return strings.EqualFold(path.Ext(p), ".rego") }

// readFS reads every policy file of an embedded library, in name order.
func readFS(fsys fs.FS) (*source, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isPolicyFile(p) {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	src := &source{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		name := path.Join("library", n)
		if isRego(n) {
			src.modules = append(src.modules, vrego.Module{Filename: name, Source: string(data)})
			continue
		}
		set := manifest.Decode(name, data)
		if err := set.Err(); err != nil {
			return nil, fmt.Errorf("embedded library: %w", err)
		}
		src.docs = append(src.docs, set.Documents...)
	}
	return src, nil
}

// Resources is the kind-to-resource table of the bundle: built-in kinds and CRDs it was given.
func (b *Bundle) Resources() *manifest.Resources { return b.resources }

// Validate judges a request against every validating policy of the bundle.
func (b *Bundle) Validate(ctx context.Context, req *policies.Request) policies.Outcome {
	var out policies.Outcome
	out.Merge(b.vap.Validate(ctx, req))
	out.Merge(b.gk.Validate(ctx, req))
	out.Merge(b.rego.Validate(ctx, req))
	return out
}

// Selects lists the validating policies of the bundle, each with its binding, whose match rules take
// requests of op on objects of r by their kind (see each format's Selects): those that may judge
// some object of r. A plain Rego module takes every kind.
func (b *Bundle) Selects(r policies.Resource, op policies.Operation) []policies.Ref {
	out := b.vap.Selects(r, op)
	out = append(out, b.gk.Selects(r, op)...)
	return append(out, b.rego.Selects(r, op)...)
}

// Validating lists every validating policy of the bundle with each of its bindings, in the order
// they judge.
func (b *Bundle) Validating() []policies.Ref {
	out := b.vap.Refs()
	out = append(out, b.gk.Refs()...)
	return append(out, b.rego.Refs()...)
}

// ParamKinds are the kinds the policies take params of (those of policies with a binding), a set
// the caller may keep but not change.
func (b *Bundle) ParamKinds() map[schema.GroupVersionKind]bool { return b.paramKinds }

// IsParam reports whether obj is of a kind some policy takes params of.
func (b *Bundle) IsParam(obj *unstructured.Unstructured) bool {
	return b.paramKinds[obj.GroupVersionKind()]
}
