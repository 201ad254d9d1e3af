package check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/job"
)

// Report is the outcome of a check.
type Report struct {
	Results []Result `json:"results"`
	// Errors are the documents that could not be read or judged; every other document was judged.
	Errors  []Error `json:"errors"`
	Summary Summary `json:"summary"`
	// Warnings are notes about the policies or inputs that are not findings.
	Warnings []string `json:"-"`
	// Notes say what was skipped or judged as written, for standard error.
	Notes []string `json:"-"`
	// all holds every result and a placeholder for each object without findings, for JUnit.
	all []Result
}

// Result is one finding of one policy about one object.
type Result struct {
	File       string `json:"file"`
	Document   int    `json:"document"`
	Line       int    `json:"line"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Policy     string `json:"policy"`
	Binding    string `json:"binding"`
	Engine     string `json:"engine"`
	Action     string `json:"action"`
	Message    string `json:"message"`
}

// Error is a document that could not be read or judged, where it is, and why.
type Error struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Line     int    `json:"line"`
	Column   int    `json:"column,omitempty"`
	Message  string `json:"message"`
}

// Summary counts the objects judged, those with at least one denial or warning, and the documents
// that could not be judged.
type Summary struct {
	Objects int `json:"objects"`
	Denied  int `json:"denied"`
	Warned  int `json:"warned"`
	Errors  int `json:"errors"`
}

// Denied reports whether any policy denied any object.
func (r *Report) Denied() bool { return r.Summary.Denied > 0 }

// Warned reports whether any policy warned about an object (check --fail-on-warn fails on it).
func (r *Report) Warned() bool { return r.Summary.Warned > 0 }

// Failed reports whether some document could not be read or judged.
func (r *Report) Failed() bool { return len(r.Errors) > 0 }

func (r *Report) addError(err error) {
	var me *manifest.Error
	if !errors.As(err, &me) {
		r.Errors = append(r.Errors, Error{Message: err.Error()})
	} else {
		r.Errors = append(r.Errors, Error{File: me.File, Document: me.Document, Line: me.Line, Column: me.Column, Message: me.Err.Error()})
	}
	r.Summary.Errors = len(r.Errors)
}

// Run loads the policies and judges every input object. Its error is a bad policy or no policy at
// all; a document that cannot be read or judged is an error of the report, and the others are
// still judged.
func Run(ctx context.Context, opts job.Options) (*Report, error) {
	j, err := job.Prepare(ctx, opts, "judged")
	if err != nil {
		return nil, err
	}
	b := j.Bundle
	if b.Policies == 0 {
		return nil, fmt.Errorf("no policies in %s: nothing would be judged", strings.Join(opts.Policies.Paths, ", "))
	}
	report := &Report{Results: []Result{}, Errors: []Error{}, Warnings: b.Warnings, Notes: j.Notes}
	for _, e := range j.Inputs.Errors {
		report.addError(e)
	}
	judge := j.Inputs.Documents
	if opts.AsWritten {
		judge = manifest.Unsplit(judge) // a List is one document to gator and conftest
	}
	job.Each(ctx, j, judge, b.Validate, func(p job.Presented[policies.Outcome]) {
		d := p.Document
		if p.Err != nil {
			report.addError(d.Wrap(p.Err))
			return
		}
		for _, w := range p.Warnings {
			report.Warnings = append(report.Warnings, fmt.Sprintf("%s: %s", d.Source(), w))
		}
		for _, err := range p.Out.Errors {
			report.addError(d.Errorf("%s: policy evaluation failed: %w", d.Describe(), err))
		}
		report.add(d, p.Request, p.Out)
	})
	report.Notes = append(report.Notes, j.ViewNotes()...)
	sort.SliceStable(report.Errors, func(i, j int) bool {
		a, b := report.Errors[i], report.Errors[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return report, nil
}

func (r *Report) add(d manifest.Document, req *policies.Request, o policies.Outcome) {
	r.Summary.Objects++
	var denied, warned bool
	base := Result{
		File: d.File, Document: d.Index, Line: d.Line,
		APIVersion: d.Object.GetAPIVersion(), Kind: d.Object.GetKind(),
		Namespace: req.Namespace, Name: req.Name,
	}
	if len(o.Findings) == 0 {
		r.all = append(r.all, base)
	}
	for _, f := range o.Findings {
		res := base
		res.Policy, res.Binding, res.Engine, res.Action, res.Message = f.Policy, f.Binding, string(f.Engine), string(f.Action), f.Message
		r.Results = append(r.Results, res)
		r.all = append(r.all, res)
		denied = denied || f.Action == policies.Deny
		warned = warned || f.Action == policies.Warn
	}
	if denied {
		r.Summary.Denied++
	}
	if warned {
		r.Summary.Warned++
	}
}
