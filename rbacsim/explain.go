package rbacsim

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Explanation says why a request is allowed or not.
type Explanation struct {
	Allowed bool
	// Masters is set when the user is in system:masters, which may do anything.
	Masters bool
	// Grants are every rule that allows the request ("RoleBinding team-a/ci of ClusterRole edit rule #2").
	Grants []string
	// NearMisses are, for a denied request, the rules that come closest to allowing it.
	NearMisses []NearMiss
	// MissingRoles are the bindings that apply to the user but refer to a role that does not exist.
	MissingRoles []string
}

// NearMiss is a rule that would allow the request but for the reasons given.
type NearMiss struct {
	Source  string
	Reasons []string
}

// maxNearMisses bounds the list of near misses.
const maxNearMisses = 10

// Explain takes Authorize's decision on the request and says why: for an allowed request every
// binding, role and rule that allows it; for a denied one the rules that fail on the fewest points
// (wrong verb, API group, resource, resource name, URL), RoleBindings of other namespaces that would
// allow it, and the bindings to missing roles. A user in system:masters is allowed whatever the
// rules, as kube-apiserver's privileged-group authorizer allows it before RBAC is asked.
func (m *Model) Explain(a authorizer.Attributes) *Explanation {
	e := &Explanation{}
	u := a.GetUser()
	if u == nil {
		return e
	}
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			e.Allowed, e.Masters = true, true
		}
	}
	if d, _, err := m.Authorize(context.Background(), a); err == nil && d == authorizer.DecisionAllow {
		e.Allowed = true
	}
	req := requestFrom(a)
	var misses []miss
	best := -1
	m.VisitRulesFor(u, a.GetNamespace(), func(src *RuleSource, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			e.MissingRoles = append(e.MissingRoles, err.Error())
			return true
		}
		reasons := mismatches(&req, rule)
		if len(reasons) == 0 {
			e.Grants = append(e.Grants, src.String())
			return true
		}
		if e.Allowed {
			return true // no near misses for an allowed request
		}
		if req.resourceRequest != (len(rule.NonResourceURLs) == 0) {
			return true // a URL rule is not near a resource request, nor the reverse
		}
		misses = append(misses, miss{src.String(), reasons})
		if best < 0 || len(reasons) < best {
			best = len(reasons)
		}
		return true
	})
	if e.Allowed {
		return e
	}
	if req.resourceRequest {
		if other := m.otherNamespaces(a, &req); len(other) > 0 {
			misses = append(misses, other...)
			if best < 0 || best > 1 {
				best = 1
			}
		}
	}
	for _, ms := range misses {
		if len(ms.reasons) == best && len(e.NearMisses) < maxNearMisses {
			e.NearMisses = append(e.NearMisses, NearMiss{Source: ms.src, Reasons: ms.reasons})
		}
	}
	sortNearMisses(e.NearMisses)
	return e
}

// miss is a rule that does not allow a request, and why.
type miss struct {
	src     string
	reasons []string
}

// otherNamespaces are the RoleBindings of other namespaces than the request's that would allow it
// there, each a miss by one reason.
func (m *Model) otherNamespaces(a authorizer.Attributes, req *request) []miss {
	namespaces := make([]string, 0, len(m.namespaced))
	for ns := range m.namespaced {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	var out []miss
	for _, ns := range namespaces {
		if ns == a.GetNamespace() {
			continue
		}
		m.visitIndex(m.namespaced[ns], a.GetUser(), ns, func(src *RuleSource, rule *rbacv1.PolicyRule, err error) bool {
			if rule != nil && ruleAllows(req, rule) {
				why := fmt.Sprintf("grants it in namespace %s, not in %s", ns, a.GetNamespace())
				if a.GetNamespace() == "" {
					why = fmt.Sprintf("grants it only in namespace %s, not cluster-wide", ns)
				}
				out = append(out, miss{src.String(), []string{why}})
			}
			return true
		})
	}
	return out
}

func sortNearMisses(n []NearMiss) {
	// Keep visit order (cluster-wide first) but put the other-namespace grants, found in map order, last and sorted.
	var same, other []NearMiss
	for _, x := range n {
		if strings.HasPrefix(x.Reasons[0], "grants it") {
			other = append(other, x)
		} else {
			same = append(same, x)
		}
	}
	sort.SliceStable(other, func(i, j int) bool { return other[i].Source < other[j].Source })
	copy(n, append(same, other...))
}

// mismatches lists why a rule does not allow the request; empty when it does.
func mismatches(r *request, rule *rbacv1.PolicyRule) []string {
	var why []string
	if !verbMatches(rule, r.verb) {
		why = append(why, fmt.Sprintf("verb %q not in %v", r.verb, rule.Verbs))
	}
	if !r.resourceRequest {
		if !urlMatches(rule, r.path) {
			if len(rule.NonResourceURLs) == 0 {
				why = append(why, "the rule is for resources, not URLs")
			} else {
				why = append(why, fmt.Sprintf("URL %q not in %v", r.path, rule.NonResourceURLs))
			}
		}
		return why
	}
	if len(rule.NonResourceURLs) > 0 && len(rule.Resources) == 0 {
		return append(why, "the rule is for non-resource URLs")
	}
	if !groupMatches(rule, r.group) {
		why = append(why, fmt.Sprintf("API group %q not in %q", r.group, rule.APIGroups))
	}
	if !resourceMatches(rule, r.resource, r.subresource) {
		combined := r.resource
		if r.subresource != "" {
			combined += "/" + r.subresource
		}
		msg := fmt.Sprintf("resource %q not in %v", combined, rule.Resources)
		for _, rr := range rule.Resources {
			if strings.HasSuffix(rr, "/*") && r.subresource != "" && strings.TrimSuffix(rr, "/*") == r.resource {
				msg += fmt.Sprintf(" (%q is not a wildcard: RBAC only knows \"*\" and \"*/subresource\")", rr)
			}
		}
		if r.subresource == "" {
			for _, rr := range rule.Resources {
				if strings.HasPrefix(rr, r.resource+"/") {
					msg += fmt.Sprintf(" (%q is a subresource; the request has none)", rr)
					break
				}
			}
		}
		why = append(why, msg)
	}
	if !nameMatches(rule, r.name) {
		if r.name == "" {
			why = append(why, fmt.Sprintf("resourceNames %v never match a request without a name", rule.ResourceNames))
		} else {
			why = append(why, fmt.Sprintf("name %q not in resourceNames %v", r.name, rule.ResourceNames))
		}
	}
	return why
}

// Write prints the explanation after the yes or no line.
func (e *Explanation) Write(w io.Writer) error {
	var b strings.Builder
	switch {
	case e.Masters:
		b.WriteString("allowed: the user is in group system:masters, which may do anything\n")
		if len(e.Grants) > 0 {
			b.WriteString("also granted by:\n")
		}
		for _, g := range e.Grants {
			fmt.Fprintf(&b, "  %s\n", g)
		}
	case e.Allowed:
		b.WriteString("granted by:\n")
		for _, g := range e.Grants {
			fmt.Fprintf(&b, "  %s\n", g)
		}
	default:
		if len(e.NearMisses) == 0 {
			b.WriteString("no rule that applies to this user comes close\n")
		} else {
			b.WriteString("nearest rules:\n")
			for _, n := range e.NearMisses {
				fmt.Fprintf(&b, "  %s: %s\n", n.Source, strings.Join(n.Reasons, "; "))
			}
		}
	}
	if len(e.MissingRoles) > 0 {
		b.WriteString("bindings to missing roles (they grant nothing):\n")
		for _, m := range e.MissingRoles {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
