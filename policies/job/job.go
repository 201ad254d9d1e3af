package job

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verdict-dev/verdict/internal/parallel"
	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies"
	"github.com/verdict-dev/verdict/policies/bundle"
)

// Options are the inputs of a job.
type Options struct {
	// Policies say where the policies come from and which Rego builtins they may use; Paths empty
	// means Policies.Library. Objects, Inventory and AsWritten are filled in from the fields below.
	Policies bundle.Options
	// Inputs are the manifests: files, folders, or "-" for Stdin (read once, by policies or inputs).
	Inputs []string
	Stdin  io.Reader
	// Inventory are further objects that referential policies see in data.inventory.
	Inventory []string
	// Operation is the admission operation to present objects under (CREATE when empty).
	Operation policies.Operation
	// Namespace is the namespace of namespaced objects that name none ("default" when empty).
	Namespace string
	// AsWritten presents every object exactly as written, as gator and conftest do: no defaults,
	// no type round trip, no namespace filled in.
	AsWritten bool
	// Strict refuses kinds that are neither built in nor defined by a CRD among the inputs.
	Strict bool
	// Timeout bounds the work on one object; policies.DefaultTimeout when zero.
	Timeout time.Duration
}

// Job is the inputs read and the policies loaded with them.
type Job struct {
	Bundle *bundle.Bundle
	// Inputs are the documents read, and those that could not be.
	Inputs *manifest.Set
	// Notes say what was skipped or judged as written, for standard error.
	Notes []string

	view      *manifest.View
	operation policies.Operation
	timeout   time.Duration
}

// Prepare reads the inputs and the inventory and loads the policies. Its error is a bad policy, an
// inventory that cannot be read, or inputs that hold no object at all: an empty pipe (a kustomize
// build that failed upstream) must not look like a clean run. doing says what the job does to
// objects, for that error ("judged", "mutated").
func Prepare(ctx context.Context, opts Options, doing string) (*Job, error) {
	inputs := manifest.Read(opts.Inputs, opts.Stdin)
	inventory := manifest.Read(opts.Inventory, nil)
	if err := inventory.Err(); err != nil {
		return nil, err
	}
	bo := opts.Policies
	bo.Stdin, bo.Objects, bo.AsWritten = opts.Stdin, inputs.Documents, opts.AsWritten
	bo.Inventory = append(inventory.Documents, inputs.Documents...)
	if opts.AsWritten {
		bo.Inventory = manifest.Unsplit(bo.Inventory) // gator's data.inventory holds a List whole
	}
	b, err := bundle.Load(ctx, bo)
	if err != nil {
		return nil, err
	}
	if len(inputs.Documents) == 0 && len(inputs.Errors) == 0 {
		return nil, fmt.Errorf("no Kubernetes objects in %s: nothing was %s", strings.Join(opts.Inputs, ", "), doing)
	}
	j := &Job{
		Bundle:    b,
		Inputs:    inputs,
		Notes:     append(append([]string(nil), b.Notes...), inputs.Notes...),
		view:      &manifest.View{Resources: b.Resources(), AsWritten: opts.AsWritten, Strict: opts.Strict, Namespace: opts.Namespace},
		operation: opts.Operation,
		timeout:   opts.Timeout,
	}
	if j.operation == "" {
		j.operation = policies.Create
	}
	if j.timeout <= 0 {
		j.timeout = policies.DefaultTimeout
	}
	return j, nil
}

// Presented is one document as the policies saw it, and what the job made of it.
type Presented[T any] struct {
	Document manifest.Document
	// Request is the document presented as an admission request; nil when Err is set.
	Request *policies.Request
	// Warnings are the API server's warnings about the object (deprecated versions and the like).
	Warnings []string
	// Err says why the document could not be presented.
	Err error
	Out T
}

// Each presents the documents and runs do on each that could be presented, on every core, with a
// context bounded by the job's timeout, then hands them to emit in the documents' order. They go
// through in batches of batchSize, and what a batch presented is dropped once emitted: memory
// follows the report, not the input.
func Each[T any](ctx context.Context, j *Job, docs []manifest.Document, do func(context.Context, *policies.Request) T, emit func(Presented[T])) {
	batch := make([]Presented[T], min(batchSize, len(docs)))
	for start := 0; start < len(docs); start += batchSize {
		part := docs[start:min(start+batchSize, len(docs))]
		parallel.Each(len(part), 2, func(i int) {
			batch[i] = present(ctx, j, part[i], do)
		})
		for i := range part {
			emit(batch[i])
			batch[i] = Presented[T]{}
		}
	}
}

// batchSize is how many documents Each presents before it emits them: enough to keep every core
// busy, few enough that their requests weigh little.
const batchSize = 256

func present[T any](ctx context.Context, j *Job, d manifest.Document, do func(context.Context, *policies.Request) T) Presented[T] {
	p := Presented[T]{Document: d}
	p.Request, p.Warnings, p.Err = bundle.Present(j.view, d.Object, j.operation)
	if p.Err != nil {
		return p
	}
	objCtx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	p.Out = do(objCtx, p.Request)
	return p
}

// ViewNotes are what presenting the documents noted (kinds judged as written and the like); call
// it after Each.
func (j *Job) ViewNotes() []string { return j.view.Notes() }
