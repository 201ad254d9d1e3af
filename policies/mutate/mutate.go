package mutate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/check"
)

// Formats lists the output formats of Write.
var Formats = []string{"yaml", "json"}

// Options are the inputs of a mutation run.
type Options struct {
	Policies  []string
	Library   fs.FS
	Inputs    []string
	Stdin     io.Reader
	Operation policies.Operation // CREATE or UPDATE; CREATE when empty
	Namespace string
	// AllowedBuiltins are Rego builtins that reach outside the evaluation and that the user allows.
	AllowedBuiltins []string
}

// Result is one input object before and after the mutating policies.
type Result struct {
	Source manifest.Document
	Before *unstructured.Unstructured // as the API server sees it (namespace filled in)
	After  *unstructured.Unstructured
}

// Report is the mutated objects, in input order.
type Report struct {
	Results  []Result
	Warnings []string
}

// Run loads the policies and mutates every input object. Namespaces and params among the inputs
// are used and not reported. Its error is bad input, a bad policy, or a policy that refuses an object.
func Run(ctx context.Context, opts Options) (*Report, error) {
	inputs, err := manifest.ReadAll(opts.Inputs, opts.Stdin)
	if err != nil {
		return nil, err
	}
	b, err := bundle.Load(ctx, bundle.Options{Paths: opts.Policies, Stdin: opts.Stdin, Library: opts.Library, Objects: inputs, AllowedBuiltins: opts.AllowedBuiltins})
	if err != nil {
		return nil, err
	}
	op := opts.Operation
	if op == "" {
		op = policies.Create
	}
	report := &Report{Warnings: b.Warnings}
	var errs []error
	for _, d := range inputs {
		gvk := d.Object.GroupVersionKind()
		if (gvk.Group == "" && gvk.Kind == "Namespace") || b.IsParam(d.Object) {
			continue
		}
		req, err := bundle.RequestFor(b.Resources(), d.Object, op, opts.Namespace)
		if err != nil {
			errs = append(errs, &manifest.Error{File: d.File, Document: d.Index, Line: d.Line, Err: err})
			continue
		}
		objCtx, cancel := context.WithTimeout(ctx, check.EvaluationTimeout)
		m := b.Mutate(objCtx, req)
		cancel()
		for _, f := range m.Findings {
			errs = append(errs, &manifest.Error{File: d.File, Document: d.Index, Line: d.Line,
				Err: fmt.Errorf("%s: refused by %s: %s", d.Describe(), describePolicy(f), f.Message)})
		}
		for _, e := range m.Errors {
			errs = append(errs, &manifest.Error{File: d.File, Document: d.Index, Line: d.Line,
				Err: fmt.Errorf("%s: mutation failed: %w", d.Describe(), e)})
		}
		report.Results = append(report.Results, Result{Source: d, Before: req.Object, After: m.Object})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return report, nil
}

func describePolicy(f policies.Finding) string {
	if f.Binding != "" {
		return fmt.Sprintf("%s %q with binding %q", f.Kind, f.Policy, f.Binding)
	}
	return fmt.Sprintf("%s %q", f.Kind, f.Policy)
}

// Write prints the mutated objects as YAML documents or as a JSON List.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "yaml":
		for i, res := range r.Results {
			data, err := yaml.Marshal(res.After.Object)
			if err != nil {
				return err
			}
			if i > 0 {
				if _, err := io.WriteString(w, "---\n"); err != nil {
					return err
				}
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
		return nil
	case "json":
		items := make([]any, len(r.Results))
		for i, res := range r.Results {
			items[i] = res.After.Object
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{}})
	}
	return fmt.Errorf("unknown output format %q (want yaml or json)", format)
}

// WriteDiff prints a unified diff of each changed object's YAML, headed by its file, document and name.
func (r *Report) WriteDiff(w io.Writer) error {
	for _, res := range r.Results {
		before, err := yaml.Marshal(res.Before.Object)
		if err != nil {
			return err
		}
		after, err := yaml.Marshal(res.After.Object)
		if err != nil {
			return err
		}
		if string(before) == string(after) {
			continue
		}
		name := fmt.Sprintf("%s#%d %s", res.Source.File, res.Source.Index, objectName(res.After))
		text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(before)), B: difflib.SplitLines(string(after)),
			FromFile: "a/" + name, ToFile: "b/" + name, Context: 3,
		})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, text); err != nil {
			return err
		}
	}
	return nil
}

func objectName(o *unstructured.Unstructured) string {
	parts := []string{o.GetKind()}
	if ns := o.GetNamespace(); ns != "" {
		parts = append(parts, ns)
	}
	return strings.Join(append(parts, o.GetName()), "/")
}
