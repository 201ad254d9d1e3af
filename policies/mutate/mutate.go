package mutate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/job"
)

// Formats lists the output formats of Write.
var Formats = []string{"yaml", "json"}

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
	// Notes say what was skipped or judged as written, for standard error.
	Notes []string
	// Errors are the documents that could not be read or mutated; every other one was.
	Errors []error
}

// Err joins the errors of the report.
func (r *Report) Err() error { return errors.Join(r.Errors...) }

// Run loads the policies and mutates every input object, Namespaces and objects that serve as
// params included, as the API server mutates every object it admits. Its error is a bad policy; a
// document that cannot be read or mutated, or that a policy refuses, is an error of the report.
func Run(ctx context.Context, opts job.Options) (*Report, error) {
	j, err := job.Prepare(ctx, opts, "mutated")
	if err != nil {
		return nil, err
	}
	report := &Report{Warnings: j.Bundle.Warnings, Notes: j.Notes}
	for _, e := range j.Inputs.Errors {
		report.Errors = append(report.Errors, e)
	}
	job.Each(ctx, j, j.Inputs.Documents, j.Bundle.Mutate, func(p job.Presented[bundle.Mutation]) {
		d := p.Document
		if p.Err != nil {
			report.Errors = append(report.Errors, d.Wrap(p.Err))
			return
		}
		for _, w := range p.Warnings {
			report.Warnings = append(report.Warnings, fmt.Sprintf("%s: %s", d.Source(), w))
		}
		failed := false
		for _, f := range p.Out.Findings {
			report.Errors = append(report.Errors, d.Errorf("%s: refused by %s: %s", d.Describe(), describePolicy(f), f.Message))
			failed = true
		}
		for _, e := range p.Out.Errors {
			report.Errors = append(report.Errors, d.Errorf("%s: mutation failed: %w", d.Describe(), e))
			failed = true
		}
		if !failed {
			report.Results = append(report.Results, Result{Source: d, Before: p.Request.Object, After: p.Out.Object})
		}
	})
	report.Notes = append(report.Notes, j.ViewNotes()...)
	return report, nil
}

func describePolicy(f policies.Finding) string {
	if f.Binding != "" {
		return fmt.Sprintf("%s %q with binding %q", f.Format, f.Policy, f.Binding)
	}
	return fmt.Sprintf("%s %q", f.Format, f.Policy)
}

// Write prints the mutated objects as YAML documents or as a JSON List.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "yaml":
		objs := make([]map[string]any, len(r.Results))
		for i, res := range r.Results {
			objs[i] = res.After.Object
		}
		return manifest.WriteYAML(w, objs)
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
		name := fmt.Sprintf("%s %s", res.Source.Source(), objectName(res.After))
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
