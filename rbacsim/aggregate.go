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
	var notes []string
	names := make([]string, 0, len(clusterRoles))
	var aggregated []*Role
	for name := range clusterRoles {
		names = append(names, name)
	}
	sort.Strings(names)
	type compiled struct {
		role      *Role
		selectors []labels.Selector
		written   []rbacv1.PolicyRule
	}
	var work []compiled
	for _, name := range names {
		r := clusterRoles[name]
		if r.Aggregation == nil {
			continue
		}
		c := compiled{role: r, written: r.Rules}
		ok := true
		for i := range r.Aggregation.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&r.Aggregation.ClusterRoleSelectors[i])
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s (ClusterRole %q): aggregationRule.clusterRoleSelectors[%d]: %v; rules left as written", r.Source, r.Name, i, err))
				ok = false
				break
			}
			c.selectors = append(c.selectors, sel)
		}
		if ok {
			work = append(work, c)
			aggregated = append(aggregated, r)
		}
	}
	if len(work) == 0 {
		return notes
	}
	ordered := make([]*Role, len(names))
	for i, n := range names {
		ordered[i] = clusterRoles[n]
	}
	// Each pass can only propagate rules one aggregation level further, so len(work)+1 passes reach
	// the fixpoint of any acyclic graph; cycles that keep changing are reported.
	for pass := 0; pass <= len(work)+1; pass++ {
		changed := false
		for _, c := range work {
			var rules []rbacv1.PolicyRule
			var origins []string
			for _, sel := range c.selectors {
				for _, other := range ordered {
					if other == c.role || !sel.Matches(labels.Set(other.Labels)) {
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
				rules, origins = c.written, nil
			}
			if rulesEqual(rules, c.role.Rules) && (origins == nil) == (c.role.RuleOrigins == nil) {
				continue
			}
			c.role.Rules, c.role.RuleOrigins = rules, origins
			changed = true
		}
		if !changed {
			return notes
		}
	}
	for _, r := range aggregated {
		notes = append(notes, fmt.Sprintf("%s (ClusterRole %q): aggregation did not settle (roles aggregate each other); rules are those of the last pass", r.Source, r.Name))
	}
	return notes
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
