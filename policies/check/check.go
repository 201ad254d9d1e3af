package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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
}

// Report is the outcome of a check.
type Report struct {
	Results []Result `json:"results"`
	Summary Summary  `json:"summary"`
	// Warnings are notes about the policies or inputs that are not findings.
	Warnings []string `json:"-"`
	// all holds every result and a placeholder for each object without findings, for JUnit.
	all []Result
}

// Result is one finding of one policy about one object.
type Result struct {
	File       string `json:"file"`
	Document   int    `json:"document"`
	Line       int    `json:"-"`
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

// Summary counts the objects judged, and those with at least one denial or warning.
type Summary struct {
	Objects int `json:"objects"`
	Denied  int `json:"denied"`
	Warned  int `json:"warned"`
}

// Denied reports whether any policy denied any object.
func (r *Report) Denied() bool { return r.Summary.Denied > 0 }

// Run loads the policies and judges every input object. Its error is bad input or a bad policy.
func Run(ctx context.Context, opts Options) (*Report, error) {
	inputs, err := manifest.ReadAll(opts.Inputs, opts.Stdin)
	if err != nil {
		return nil, err
	}
	inventory, err := manifest.ReadAll(opts.Inventory, opts.Stdin)
	if err != nil {
		return nil, err
	}
	b, err := bundle.Load(ctx, bundle.Options{
		Paths: opts.Policies, Stdin: opts.Stdin, Library: opts.Library,
		Objects: inputs, AllowedBuiltins: opts.AllowedBuiltins, Inventory: append(inventory, inputs...),
	})
	if err != nil {
		return nil, err
	}
	op := opts.Operation
	if op == "" {
		op = policies.Create
	}
	report := &Report{Results: []Result{}, Warnings: b.Warnings}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = EvaluationTimeout
	}
	judged := judgeAll(ctx, b, inputs, op, opts.Namespace, timeout)
	var errs []error
	for i, j := range judged {
		d := inputs[i]
		if j.err != nil {
			errs = append(errs, &manifest.Error{File: d.File, Document: d.Index, Line: d.Line, Err: j.err})
			continue
		}
		for _, err := range j.outcome.Errors {
			errs = append(errs, &manifest.Error{File: d.File, Document: d.Index, Line: d.Line,
				Err: fmt.Errorf("%s: policy evaluation failed: %w", d.Describe(), err)})
		}
		report.add(d, j.req, j.outcome)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return report, nil
}

// EvaluationTimeout bounds the judging of one object, as the webhook's deadline bounds a request
// (the API server's default webhook timeout): a policy that runs away fails the check instead of
// hanging it.
const EvaluationTimeout = 10 * time.Second

type judgement struct {
	req     *policies.Request
	outcome policies.Outcome
	err     error
}

// judgeAll judges the inputs on every core; the judgements keep the input order.
func judgeAll(ctx context.Context, b *bundle.Bundle, inputs []manifest.Document, op policies.Operation, namespace string, timeout time.Duration) []judgement {
	out := make([]judgement, len(inputs))
	workers := runtime.GOMAXPROCS(0)
	if workers > len(inputs) {
		workers = len(inputs)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(inputs) {
					return
				}
				req, err := bundle.RequestFor(b.Resources(), inputs[i].Object, op, namespace)
				if err != nil {
					out[i].err = err
					continue
				}
				objCtx, cancel := context.WithTimeout(ctx, timeout)
				out[i] = judgement{req: req, outcome: b.Validate(objCtx, req)}
				cancel()
			}
		}()
	}
	wg.Wait()
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
