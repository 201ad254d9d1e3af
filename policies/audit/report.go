package audit

import (
	"time"

	"github.com/verdict-dev/verdict/policies"
)

// Result is what a policy says of an object, in PolicyReport's words.
type Result string

// The results of a PolicyReport; verdict audit writes no skip.
const (
	Pass  Result = "pass"
	Fail  Result = "fail"
	Warn  Result = "warn"
	Error Result = "error"
)

// Object names an object of the cluster.
type Object struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        string
	// RequestNamespace is the namespace of the request that judged it, as check reports it: a
	// Namespace's own name on UPDATE (see bundle.Present), the object's namespace otherwise.
	RequestNamespace string
}

// Entry is one result of one policy (with its binding) about one object.
type Entry struct {
	Object Object
	// Policy names the policy and its binding; empty when the object could not be judged at all.
	Policy policies.Ref
	Result Result
	// Action is the finding's action (deny, warn, audit); empty for passes and errors.
	Action  policies.Action
	Message string
}

// Report is the outcome of an audit.
type Report struct {
	Entries []Entry
	// Objects counts the objects judged; Denied and Warned those with a denial or a warning.
	Objects, Denied, Warned int
	// Errors counts the error entries (objects that could not be judged, evaluations that failed)
	// and the kinds that could not be listed.
	Errors int
	// Unlisted are the kinds that could not be listed, each with why; the others were judged.
	Unlisted []string
	// Kinds are the kinds listed, with the objects of each, in the order they were listed.
	Kinds []Kind
	// Uncovered are the kinds the cluster serves that no policy takes (not listed).
	Uncovered []string
	// Unused are the policies (with their bindings) that judged no object.
	Unused []policies.Ref
	// Notes say what discovery could not tell (an aggregated API that did not answer).
	Notes []string
	// Time is when the audit ran.
	Time time.Time
}

// Kind is a kind listed and how many of its objects were judged.
type Kind struct {
	Resource string `json:"resource"` // resource.group, as kubectl names it
	Kind     string `json:"kind"`
	Objects  int    `json:"objects"`
}

// Violations reports whether any policy denied any object.
func (r *Report) Violations() bool { return r.Denied > 0 }

// Failed reports whether some object or evaluation could not be judged.
func (r *Report) Failed() bool { return r.Errors > 0 }

// resultOf is the PolicyReport result of a finding's action: a violation of a policy that only
// audits is still a fail, as Kyverno reports an Audit policy's violations.
func resultOf(a policies.Action) Result {
	if a == policies.Warn {
		return Warn
	}
	return Fail
}
