package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/verdict-dev/verdict/internal/parallel"
	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// Options are the inputs of a check.
type Options struct {
	// Policies are policy files and folders; empty means Library.
	Policies []string
	Library  fs.FS
	// Inputs are the manifests to judge: files, folders, or "-" for Stdin.
	Inputs []string
	Stdin  io.Reader
	// Operation is the admission operation to judge under (CREATE when empty).
	Operation policies.Operation
	// Namespace is the namespace of namespaced objects that name none ("default" when empty).
	Namespace string
	// AllowedBuiltins are Rego builtins that reach outside the evaluation and that the user allows.
	AllowedBuiltins []string
	// Timeout bounds the judging of one object; zero means EvaluationTimeout.
	Timeout time.Duration
	// Inventory are further objects that referential policies see in data.inventory.
	Inventory []string
	// AsWritten judges every object exactly as written, as gator and conftest do: no defaults, no
	// type round trip, no namespace filled in.
	AsWritten bool
	// Strict refuses kinds that are neither built in nor defined by a CRD among the inputs.
	Strict bool
}

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
func Run(ctx context.Context, opts Options) (*Report, error) {
	inputs := manifest.Read(opts.Inputs, opts.Stdin)
	inventory := manifest.Read(opts.Inventory, nil)
	if err := inventory.Err(); err != nil {
		return nil, err
	}
	inventoried := append(inventory.Documents, inputs.Documents...)
	if opts.AsWritten {
		inventoried = manifest.Unsplit(inventoried) // gator's data.inventory holds a List whole
	}
	b, err := bundle.Load(ctx, bundle.Options{
		Paths: opts.Policies, Stdin: opts.Stdin, Library: opts.Library,
		Objects: inputs.Documents, AllowedBuiltins: opts.AllowedBuiltins,
		Inventory: inventoried, AsWritten: opts.AsWritten,
	})
	if err != nil {
		return nil, err
	}
	if b.Policies == 0 {
		return nil, fmt.Errorf("no policies in %s: nothing would be judged", strings.Join(opts.Policies, ", "))
	}
	if len(inputs.Documents) == 0 && len(inputs.Errors) == 0 {
		// An empty pipe (a kustomize build that failed upstream) must not pass as a clean check.
		return nil, fmt.Errorf("no Kubernetes objects in %s: nothing was judged", strings.Join(opts.Inputs, ", "))
	}
	op := opts.Operation
	if op == "" {
		op = policies.Create
	}
	report := &Report{Results: []Result{}, Errors: []Error{}, Warnings: b.Warnings}
	report.Notes = append(append(report.Notes, b.Notes...), inputs.Notes...)
	for _, e := range inputs.Errors {
		report.addError(e)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = EvaluationTimeout
	}
	view := &manifest.View{Resources: b.Resources(), AsWritten: opts.AsWritten, Strict: opts.Strict, Namespace: opts.Namespace}
	judge := inputs.Documents
	if opts.AsWritten {
		judge = manifest.Unsplit(judge) // a List is one document to gator and conftest
	}
	judged := judgeAll(ctx, b, judge, op, view, timeout)
	for i, j := range judged {
		d := judge[i]
		if j.err != nil {
			report.addError(d.Wrap(j.err))
			continue
		}
		for _, w := range j.warnings {
			report.Warnings = append(report.Warnings, fmt.Sprintf("%s: %s", d.Source(), w))
		}
		for _, err := range j.outcome.Errors {
			report.addError(d.Errorf("%s: policy evaluation failed: %w", d.Describe(), err))
		}
		report.add(d, j.req, j.outcome)
	}
	report.Notes = append(report.Notes, view.Notes()...)
	sort.SliceStable(report.Errors, func(i, j int) bool {
		a, b := report.Errors[i], report.Errors[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return report, nil
}

// EvaluationTimeout bounds the judging of one object, as the webhook's deadline bounds a request
// (the API server's default webhook timeout): a policy that runs away fails the check instead of
// hanging it.
const EvaluationTimeout = 10 * time.Second

type judgement struct {
	req      *policies.Request
	outcome  policies.Outcome
	warnings []string
	err      error
}

// judgeAll judges the inputs on every core; the judgements keep the input order.
func judgeAll(ctx context.Context, b *bundle.Bundle, inputs []manifest.Document, op policies.Operation, view *manifest.View, timeout time.Duration) []judgement {
	out := make([]judgement, len(inputs))
	parallel.Each(len(inputs), 2, func(i int) {
		req, warnings, err := bundle.Present(view, inputs[i].Object, op)
		if err != nil {
			out[i].err = err
			return
		}
		objCtx, cancel := context.WithTimeout(ctx, timeout)
		out[i] = judgement{req: req, outcome: b.Validate(objCtx, req), warnings: warnings}
		cancel()
	})
	return out
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
