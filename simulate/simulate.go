package simulate

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/verdict-dev/verdict/manifest"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/rbacsim"
)

// Options are the cluster and the user of a simulated apply.
type Options struct {
	// User is who applies, as the API server's impersonation filter makes it (rbacsim.Impersonate).
	User user.Info
	// RBAC are the RBAC objects of the cluster before the apply (--rbac, --with-defaults).
	RBAC *rbacsim.Objects
	// Policies are the admission policies of the cluster; nil means none.
	Policies *bundle.Bundle
	// Existing are the cluster's other objects before the apply (--existing): Namespaces, the
	// objects an apply would patch, LimitRanges, ResourceQuotas, PriorityClasses, CRDs.
	Existing []manifest.Document
	// ServerSide applies as kubectl apply --server-side does: one apply PATCH per object.
	ServerSide bool
	// Resources is the table of kinds (built-in and CRDs); nil means the built-in kinds.
	Resources *manifest.Resources
}

// Outcome is what the API server did with an object.
type Outcome string

// The outcomes of an object.
const (
	Created    Outcome = "created"
	Configured Outcome = "configured"
	Refused    Outcome = "refused"
)

// Stages name where a request stopped. A built-in admission plugin's stage is "admission:" and its
// name, as kube-apiserver registers it (admission:NamespaceLifecycle, admission:PodSecurity).
const (
	StageAuthorization = "authorization"
	StageEscalation    = "escalation"
	StageMutating      = "mutating"
	StageValidation    = "validation"
	StageValidating    = "validating"
	admissionStage     = "admission:"
)

// Request is one request kubectl sends for an object, as the API server authorizes it.
type Request struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Verb    string `json:"verb"`
	Allowed bool   `json:"allowed"`
	// Reason is the authorizer's reason, or the authorization check it stands for.
	Reason string `json:"-"`
}

// Result is what the API server did with one object of the inputs.
type Result struct {
	Document   manifest.Document `json:"-"`
	File       string            `json:"file"`
	Index      int               `json:"document"`
	Line       int               `json:"line"`
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Outcome    Outcome           `json:"outcome"`
	// Stage and Message are empty for an accepted object. Message is what kubectl prints for the
	// refusal, the API server's error as kubectl words it (it may span lines).
	Stage    string    `json:"stage"`
	Message  string    `json:"message"`
	Requests []Request `json:"requests"`
	// Warnings are what kubectl prints after "Warning: ": the API server's warnings, and kubectl's
	// own for an existing object without the last-applied annotation.
	Warnings []string `json:"warnings"`
	// Object is the object as it would be stored; nil for a refused object.
	Object *unstructured.Unstructured `json:"object"`
}

// Refused reports whether the API server refused the object.
func (r *Result) Refused() bool { return r.Outcome == Refused }

// Report is the result of a simulated apply, object by object in input order.
type Report struct {
	Results []Result
	// Notes say what the simulation assumed or skipped.
	Notes []string
}

// Refused reports whether any object was refused.
func (r *Report) Refused() bool {
	for i := range r.Results {
		if r.Results[i].Refused() {
			return true
		}
	}
	return false
}

// InputError is an input that kubectl itself would not send: a document it cannot map to a resource
// or that it cannot encode. It names the document.
type InputError struct {
	Document manifest.Document
	Err      error
}

func (e *InputError) Error() string { return e.Document.Wrap(e.Err).Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run simulates `kubectl apply` of docs, in order, by opts.User. Inputs that kubectl would refuse
// before sending anything are errors (*InputError, all of them joined); every other object has
// its result.
func Run(ctx context.Context, docs []manifest.Document, opts Options) (*Report, error) {
	if opts.User == nil {
		return nil, errors.New("simulate: no user")
	}
	w, err := newWorld(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer w.close()
	report := &Report{}
	var errs []error
	for _, d := range docs {
		res, err := w.apply(ctx, d)
		if err != nil {
			errs = append(errs, &InputError{Document: d, Err: err})
			continue
		}
		report.Results = append(report.Results, *res)
	}
	report.Notes = append(report.Notes, w.view.Notes()...)
	if len(errs) > 0 {
		return report, errors.Join(errs...)
	}
	return report, nil
}

// newResult is the result of a document before any request.
func newResult(d manifest.Document, obj *unstructured.Unstructured) *Result {
	return &Result{
		Document: d, File: d.File, Index: d.Index, Line: d.Line,
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(),
		Requests: []Request{}, Warnings: []string{},
	}
}

// refuse ends a result at a stage with the error kubectl prints.
func (r *Result) refuse(stage string, err error) *Result {
	r.Outcome, r.Stage, r.Message, r.Object = Refused, stage, KubectlMessage(err), nil
	return r
}

func (r *Result) String() string {
	if r.Refused() {
		return fmt.Sprintf("%s: %s", r.Stage, r.Message)
	}
	return string(r.Outcome) + " (dry run)"
}
