package rbacsim

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// RuleSource names where a rule comes from: the binding that applies to the user, the subject of that
// binding that matched, the role and the position of the rule in it.
type RuleSource struct {
	Binding *Binding
	Subject *rbacv1.Subject
	Role    *Role // nil when the binding's role is missing
	Rule    int   // index in Role.Rules, from 0
}

// String reads "RoleBinding team-a/ci of ClusterRole edit rule #2" (rules counted from 1), with the
// ClusterRole a rule was aggregated from when there is one.
func (s *RuleSource) String() string {
	if s.Role == nil {
		return s.Binding.String() + " of " + s.Binding.RoleRefString()
	}
	str := s.Binding.String() + " of " + s.Binding.RoleRefString() + " rule #" + strconv.Itoa(s.Rule+1)
	if s.Role.RuleOrigins != nil && s.Rule < len(s.Role.RuleOrigins) {
		str += " (aggregated from ClusterRole " + s.Role.RuleOrigins[s.Rule] + ")"
	}
	return str
}

// RuleVisitor sees each rule that applies to a user, or the error of a binding whose role is missing
// (rule nil). Returning false stops the walk.
type RuleVisitor func(source *RuleSource, rule *rbacv1.PolicyRule, err error) bool

// VisitRulesFor walks the rules that apply to the user in a namespace, as the API server's rule
// resolver does: those of the ClusterRoleBindings, then, when namespace is not empty, those of the
// namespace's RoleBindings. Each binding is visited once, found through the subject index.
func (m *Model) VisitRulesFor(u user.Info, namespace string, visit RuleVisitor) {
	if !m.visitIndex(m.cluster, u, "", visit) {
		return
	}
	if namespace == "" {
		return
	}
	if idx := m.namespaced[namespace]; idx != nil {
		m.visitIndex(idx, u, namespace, visit)
	}
}

func (m *Model) visitIndex(idx *subjectIndex, u user.Info, namespace string, visit RuleVisitor) bool {
	name, groups := u.GetName(), u.GetGroups()
	if !visitBindings(idx.byUser[name], -1, name, groups, namespace, visit) {
		return false
	}
	for gi, g := range groups {
		if !visitBindings(idx.byGroup[g], gi, name, groups, namespace, visit) {
			return false
		}
	}
	return true
}

// visitBindings visits the bindings of one index list. list is -1 for the user's list, or the index
// of the group whose list it is; a binding also found in an earlier list is skipped there.
func visitBindings(bindings []*Binding, list int, name string, groups []string, namespace string, visit RuleVisitor) bool {
	for _, b := range bindings {
		subject, first := firstList(b, name, groups, namespace)
		if first != list {
			continue
		}
		src := RuleSource{Binding: b, Subject: &b.Subjects[subject], Role: b.Role}
		if b.Role == nil {
			if !visit(&src, nil, &MissingRoleError{Binding: b}) {
				return false
			}
			continue
		}
		for i := range b.Role.Rules {
			src.Rule = i
			if !visit(&src, &b.Role.Rules[i], nil) {
				return false
			}
		}
	}
	return true
}

// firstList returns the first subject of b that applies to the user, and the earliest index list that
// holds b for this user (-1 the user's, else the index of a group), or -2 when nothing applies.
func firstList(b *Binding, name string, groups []string, namespace string) (subject int, list int) {
	subject, list = -1, -2
	for i := range b.Subjects {
		s := &b.Subjects[i]
		l := -2
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == name {
				l = -1
			}
		case rbacv1.GroupKind:
			for gi, g := range groups {
				if g == s.Name {
					l = gi
					break
				}
			}
		case rbacv1.ServiceAccountKind:
			if serviceAccountMatches(s, namespace, name) {
				l = -1
			}
		}
		if l == -2 {
			continue
		}
		if subject < 0 {
			subject = i
		}
		if list == -2 || l < list {
			list = l
		}
	}
	return subject, list
}

// serviceAccountMatches is appliesToUser for a ServiceAccount subject: the subject's namespace, or the
// binding's when it has none; a subject with neither matches nobody.
func serviceAccountMatches(s *rbacv1.Subject, namespace, userName string) bool {
	ns := s.Namespace
	if ns == "" {
		ns = namespace
	}
	if ns == "" {
		return false
	}
	const prefix = "system:serviceaccount:"
	return len(userName) == len(prefix)+len(ns)+1+len(s.Name) &&
		strings.HasPrefix(userName, prefix) &&
		userName[len(prefix):len(prefix)+len(ns)] == ns &&
		userName[len(prefix)+len(ns)] == ':' &&
		userName[len(prefix)+len(ns)+1:] == s.Name
}

// Authorize decides a request as kube-apiserver's authorizer chain does for RBAC: members of
// system:masters may do anything; otherwise the first RBAC rule that allows the request decides, and
// its source is the reason ("RBAC: allowed by RoleBinding team-a/ci of ClusterRole edit rule #2").
// Without such a rule the decision is NoOpinion (a denial), with the missing roles as the reason.
func (m *Model) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "", errors.New("no user on request")
	}
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return authorizer.DecisionAllow, "allowed: member of group " + user.SystemPrivilegedGroup, nil
		}
	}
	req := requestFrom(a)
	name, groups, ns := u.GetName(), u.GetGroups(), a.GetNamespace()
	var missing []string
	b, rule := firstAllowing(m.cluster, &req, name, groups, &missing)
	if b == nil && ns != "" {
		if idx := m.namespaced[ns]; idx != nil {
			b, rule = firstAllowing(idx, &req, name, groups, &missing)
		}
	}
	if b != nil {
		return authorizer.DecisionAllow, b.reasonFor(rule), nil
	}
	if len(missing) > 0 {
		return authorizer.DecisionNoOpinion, "RBAC: " + strings.Join(missing, ", "), nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// firstAllowing is VisitRulesFor with the authorizing visitor, without a closure or allocation on the
// hot path: the first binding of the index (user's list, then each group's) with a rule that allows
// the request, and that rule's index. Missing roles met on the way are added to missing.
func firstAllowing(idx *subjectIndex, req *request, name string, groups []string, missing *[]string) (*Binding, int) {
	if b, r := firstAllowingIn(idx.byUser[name], req, missing); b != nil {
		return b, r
	}
	for _, g := range groups {
		if b, r := firstAllowingIn(idx.byGroup[g], req, missing); b != nil {
			return b, r
		}
	}
	return nil, 0
}

func firstAllowingIn(bindings []*Binding, req *request, missing *[]string) (*Binding, int) {
	for _, b := range bindings {
		// A binding that applies through several subjects is in several lists and may be checked
		// twice here: harmless for the decision, and cheaper than finding out.
		if b.Role == nil {
			msg := (&MissingRoleError{Binding: b}).Error()
			if !slices.Contains(*missing, msg) {
				*missing = append(*missing, msg)
			}
			continue
		}
		role := b.Role
		if !mayHaveVerb(role.verbs, req.verbBit) {
			continue
		}
		for i := range role.Rules {
			if mayHaveVerb(role.ruleVerbs[i], req.verbBit) && ruleAllows(req, &role.Rules[i]) {
				return b, i
			}
		}
	}
	return nil, 0
}

// reasonFor is the Authorize reason for a rule of the binding's role.
func (b *Binding) reasonFor(rule int) string {
	s := b.reasonPrefix + strconv.Itoa(rule+1)
	if o := b.Role.RuleOrigins; o != nil && rule < len(o) {
		s += " (aggregated from ClusterRole " + o[rule] + ")"
	}
	return s
}

// ConditionsAwareAuthorize is Authorize as a conditions-aware decision: RBAC has no conditions.
func (m *Model) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(m.Authorize(ctx, a))
}

// EvaluateConditions is not supported: RBAC decisions are never conditional.
func (m *Model) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

var _ authorizer.Authorizer = (*Model)(nil)
