package rbacsim

import (
	"context"
	"strings"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Answer is a decided request: its attributes, the decision and why, as rbac can-i -o json prints it.
type Answer struct {
	Allowed         bool   `json:"allowed"`
	Verb            string `json:"verb"`
	APIGroup        string `json:"apiGroup"`
	Resource        string `json:"resource"`
	Subresource     string `json:"subresource"`
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	Path            string `json:"path"`
	ResourceRequest bool   `json:"resourceRequest"`
	Reason          string `json:"reason"`
}

// Decide authorizes a request and says why, in the words of a check's reason: the binding, role and
// rule that allow it ("allowed by RoleBinding team-a/ci of ClusterRole edit rule #2"), or
// "no RBAC rule allows it" with the bindings to missing roles met on the way.
func (m *Model) Decide(ctx context.Context, a authorizer.Attributes) (Answer, error) {
	d, reason, err := m.Authorize(ctx, a)
	if err != nil {
		return Answer{}, err
	}
	allowed := d == authorizer.DecisionAllow
	return Answer{Allowed: allowed, Verb: a.GetVerb(), APIGroup: a.GetAPIGroup(), Resource: a.GetResource(),
		Subresource: a.GetSubresource(), Namespace: a.GetNamespace(), Name: a.GetName(), Path: a.GetPath(),
		ResourceRequest: a.IsResourceRequest(), Reason: decisionReason(allowed, reason)}, nil
}

// decisionReason is Authorize's reason without its "RBAC: " prefix, said in full for a denial.
func decisionReason(allowed bool, reason string) string {
	reason = strings.TrimPrefix(reason, "RBAC: ")
	switch {
	case allowed:
		return reason
	case reason == "":
		return "no RBAC rule allows it"
	default:
		return "no RBAC rule allows it; " + reason
	}
}
