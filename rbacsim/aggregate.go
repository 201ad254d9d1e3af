package rbacsim

import (
	"fmt"
	"slices"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// aggregate fills the rules of every ClusterRole with an aggregationRule as the clusterrole-aggregation
// controller leaves them once it has converged: each sync replaces the role's rules with the union, in
// selector order and then role name order, of the rules of the other ClusterRoles its selectors match,
// without duplicates. Syncs repeat until nothing changes, so aggregated roles that aggregate other
// aggregated roles settle as they do in a cluster. It returns notes about invalid selectors.
//
// When the selected roles hold no rules at all, the role keeps the rules it was written with: the
// controller then server-side applies an empty rule list, which leaves alone the rules that another
// field manager (whoever created the role) owns. kube-apiserver then authorizes with those rules.
func aggregate(clusterRoles map[string]*Role) []string {
	names := make([]string, 0, len(clusterRoles))
	for name := range clusterRoles {
		names = append(names, name)
	}
	sort.Strings(names)
	ordered := make([]*Role, len(names))
	for i, n := range names {
		ordered[i] = clusterRoles[n]
	}
	work, notes := aggregationWork(ordered)
	if len(work) == 0 {
		return notes
	}
	// Each pass can only propagate rules one aggregation level further, so len(work)+1 passes reach
	// the fixpoint of any acyclic graph; cycles that keep changing are reported.
	for pass := 0; pass <= len(work)+1; pass++ {
		changed := false
		for _, a := range work {
			changed = a.sync(ordered) || changed
		}
		if !changed {
			return notes
		}
	}
	for _, a := range work {
		notes = append(notes, fmt.Sprintf("%s (ClusterRole %q): aggregation did not settle (roles aggregate each other); rules are those of the last pass", a.role.Source, a.role.Name))
	}
	return notes
}

// aggregation is an aggregated ClusterRole with its selectors compiled and the rules it was written
// with.
type aggregation struct {
	role      *Role
	selectors []labels.Selector
	written   []rbacv1.PolicyRule
}

// aggregationWork compiles the selectors of the aggregated roles among roles, in their order; a role
// with an invalid selector keeps its rules as written, with a note.
func aggregationWork(roles []*Role) ([]*aggregation, []string) {
	var work []*aggregation
	var notes []string
	for _, r := range roles {
		if r.Aggregation == nil {
			continue
		}
		a := &aggregation{role: r, written: r.Rules}
		for i := range r.Aggregation.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&r.Aggregation.ClusterRoleSelectors[i])
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s (ClusterRole %q): aggregationRule.clusterRoleSelectors[%d]: %v; rules left as written", r.Source, r.Name, i, err))
				a = nil
				break
			}
			a.selectors = append(a.selectors, sel)
		}
		if a != nil {
			work = append(work, a)
		}
	}
	return work, notes
}

// sync is one sync of the controller for the role: its rules become the union of the selected
// roles' rules. It reports whether they changed.
func (a *aggregation) sync(ordered []*Role) bool {
	var rules []rbacv1.PolicyRule
	var origins []string
	for _, sel := range a.selectors {
		for _, other := range ordered {
			if other == a.role || !sel.Matches(labels.Set(other.Labels)) {
				continue
			}
			for i, rule := range other.Rules {
				if slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return ruleEqual(r, rule) }) {
					continue
				}
				rules = append(rules, rule)
				origin := other.Name
				if other.RuleOrigins != nil && other.RuleOrigins[i] != "" {
					origin = other.RuleOrigins[i]
				}
				origins = append(origins, origin)
			}
		}
	}
	if len(rules) == 0 {
		rules, origins = a.written, nil
	}
	if rulesEqual(rules, a.role.Rules) && (origins == nil) == (a.role.RuleOrigins == nil) {
		return false
	}
	a.role.Rules, a.role.RuleOrigins = rules, origins
	return true
}

// ruleEqual is semantic equality of rules: nil and empty lists are the same.
func ruleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) &&
		slices.Equal(a.Resources, b.Resources) && slices.Equal(a.ResourceNames, b.ResourceNames) &&
		slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

func rulesEqual(a, b []rbacv1.PolicyRule) bool {
	return slices.EqualFunc(a, b, ruleEqual)
}
