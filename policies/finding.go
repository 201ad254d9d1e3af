package policies

import (
	"context"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Action is what a finding does to the request.
type Action string

// The actions of a finding. Deny refuses the request; Warn and Audit never do.
const (
	Deny  Action = "deny"
	Warn  Action = "warn"
	Audit Action = "audit"
)

// Engine names the language that decided.
type Engine string

// The engines.
const (
	CEL  Engine = "cel"
	Rego Engine = "rego"
)

// Finding is one thing a policy says about a request: a denial, a warning or an audit record.
type Finding struct {
	// Policy and Binding name what decided: a ValidatingAdmissionPolicy and its binding, a Gatekeeper
	// template and constraint, or a Rego package and an empty binding.
	Policy  string
	Binding string
	Engine  Engine
	Action  Action
	// Message is exactly what the API server puts after "denied request: ".
	Message string
	// Reason is the status reason for a denial (a VAP validation's reason); empty means Invalid for a
	// VAP and Forbidden otherwise.
	Reason metav1.StatusReason
	// Text is the finding as the API server (or Gatekeeper) words it to the client, naming what
	// decided: the refusal's message for a denial, the warning line for a warning. Each format writes
	// its own, so that no reader needs to know the formats.
	Text string
	// Format is the format that decided, for reports: ValidatingAdmissionPolicy, ConstraintTemplate, Rego.
	Format string
	// Details is structured data a Gatekeeper violation carries.
	Details any
}

// Outcome is everything the validating policies say about one request.
type Outcome struct {
	Findings []Finding
	// AuditAnnotations are keyed "policy/key", as the API server records them.
	AuditAnnotations map[string]string
	// Errors are evaluations that failed without a failure policy to decide for them (a Rego rule
	// that errors at run time). The CLI reports them as bad policies; the webhook fails closed.
	Errors []error
	// Judged are the policies (each with its binding) whose match rules took the request and that
	// judged it, with findings or without: a pair judged without a finding passed (verdict audit
	// reports those passes).
	Judged []Ref
}

// Ref names one policy of a set with what binds it: a ValidatingAdmissionPolicy and its binding, a
// Gatekeeper template and constraint, or a Rego package and an empty binding, as a Finding names them.
type Ref struct {
	Policy  string
	Binding string
	Engine  Engine
	// Format is the format, as in Finding.Format.
	Format string
}

// RefOf is the policy and binding that a finding names.
func RefOf(f Finding) Ref {
	return Ref{Policy: f.Policy, Binding: f.Binding, Engine: f.Engine, Format: f.Format}
}

// Resource is a kind of object as the API server serves it, for asking a set which of its
// policies may judge objects of it.
type Resource struct {
	Kind       schema.GroupVersionKind
	Resource   schema.GroupVersionResource
	Namespaced bool
}

// Denied reports whether any finding denies the request.
func (o *Outcome) Denied() bool {
	for _, f := range o.Findings {
		if f.Action == Deny {
			return true
		}
	}
	return false
}

// Merge appends the findings and annotations of other.
func (o *Outcome) Merge(other Outcome) {
	o.Findings = append(o.Findings, other.Findings...)
	o.Errors = append(o.Errors, other.Errors...)
	o.Judged = append(o.Judged, other.Judged...)
	for k, v := range other.AuditAnnotations {
		if o.AuditAnnotations == nil {
			o.AuditAnnotations = map[string]string{}
		}
		o.AuditAnnotations[k] = v
	}
}

// Validator is a compiled validating policy of any format.
type Validator interface {
	// Validate judges one request. Evaluation errors become findings according to the policy's
	// failure policy; Validate itself never fails.
	Validate(ctx context.Context, req *Request) Outcome
}

// OneLine puts a message on one line, its runs of white space (new lines included) made one space,
// as a denial's message or a warning must be.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ReasonCode is the HTTP code of a denial's status reason, as kube-apiserver's admission-policy
// dispatchers map it: Unauthorized 401, Invalid 422, RequestEntityTooLarge 413, any other 403.
func ReasonCode(r metav1.StatusReason) int32 {
	switch r {
	case metav1.StatusReasonUnauthorized:
		return http.StatusUnauthorized
	case metav1.StatusReasonInvalid:
		return http.StatusUnprocessableEntity
	case metav1.StatusReasonRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusForbidden
}
