package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"slices"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/manifest"
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

// ClusterFile is the File of the Objects and Inventory documents that come from a cluster.
const ClusterFile = "cluster"

// clusterPolicyFile names the extra policies in the library when no policy paths are given: it sorts
// after the library's own files, so that the extra policies come after them, as they do after
// policy files.
const clusterPolicyFile = "~cluster.yaml"

// compile compiles the files' policies with the extra ones. An extra policy that does not compile is
// left out, and the rest compiled again; an error that names no extra policy fails the load.
func (s *PolicySet) compile(ctx context.Context, extra *Extra) (*bundle.Bundle, []string, error) {
	if extra == nil {
		b, err := bundle.Load(ctx, s.opts)
		return b, nil, err
	}
	opts := s.opts
	opts.Objects = append(slices.Clip(opts.Objects), extra.Objects...)
	opts.Inventory = append(slices.Clip(opts.Inventory), extra.Inventory...)
	pols := extra.Policies
	var skipped []string
	for {
		withPolicies, file, err := s.withPolicies(opts, pols)
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
			if perr, ok := bad[i]; ok {
				msg := "cluster: " + perr.Error()
				skipped = append(skipped, msg)
				s.log.Error(perr, "leaving out a cluster policy that does not compile", "policy", describeObject(p))
				continue
			}
			kept = append(kept, p)
		}
		pols = kept
	}
}

// withPolicies adds the policy objects to opts as one more policy file, and returns that file's
// name as the bundle's errors give it. bundle.Options reads policies only from files: the objects
// come as standard input beside the paths, or as one more file of the library.
func (s *PolicySet) withPolicies(opts bundle.Options, pols []*unstructured.Unstructured) (bundle.Options, string, error) {
	if len(pols) == 0 {
		return opts, "", nil
	}
	var buf bytes.Buffer
	for i, p := range pols {
		if i > 0 {
			buf.WriteString("---\n")
		}
		data, err := json.Marshal(p.Object)
		if err != nil {
			return opts, "", err
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	if len(opts.Paths) > 0 {
		opts.Paths = append(slices.Clip(opts.Paths), manifest.Stdin)
		opts.Stdin = &buf
		return opts, manifest.Stdin, nil
	}
	if opts.Library == nil {
		return opts, "", errors.New("no policies: give --policies or build with the embedded library")
	}
	lib, err := s.libraryCopy(opts.Library)
	if err != nil {
		return opts, "", err
	}
	withCluster := make(fstest.MapFS, len(lib)+1)
	for name, f := range lib {
		withCluster[name] = f
	}
	withCluster[clusterPolicyFile] = &fstest.MapFile{Data: buf.Bytes(), Mode: 0o444}
	opts.Library = withCluster
	return opts, path.Join("library", clusterPolicyFile), nil
}

// libraryCopy reads the embedded library once into memory.
func (s *PolicySet) libraryCopy(lib fs.FS) (fstest.MapFS, error) {
	if s.library != nil {
		return s.library, nil
	}
	out := fstest.MapFS{}
	err := fs.WalkDir(lib, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(lib, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: data, Mode: 0o444}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.library = out
	return out, nil
}

// policyErrors finds, in a bundle's error, those about documents of file, by document index.
func policyErrors(err error, file string) map[int]error {
	out := map[int]error{}
	var walk func(error)
	walk = func(err error) {
		if me, ok := err.(*manifest.Error); ok && me.File == file && me.Document >= 0 {
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
