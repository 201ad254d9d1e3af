package rbacsim

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
)

// RulesFor returns the rules that apply to the user in the namespace, as the API server answers a
// SelfSubjectRulesReview from RBAC, and the resolution errors (missing roles) that make it incomplete.
// Like the API server, it does not list anything for system:masters beyond what bindings grant.
func (m *Model) RulesFor(u user.Info, namespace string) ([]rbacv1.PolicyRule, []error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	m.VisitRulesFor(u, namespace, func(_ *RuleSource, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil {
			rules = append(rules, *rule)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return rules, errs
}

// WriteRulesTable prints rules as kubectl auth can-i --list does: each rule of the rules review broken
// down to one verb, resource and name, the simple ones compacted again per resource and name, sorted by
// their protobuf string, in a table "Resources  Non-Resource URLs  Resource Names  Verbs".
func WriteRulesTable(w io.Writer, rules []rbacv1.PolicyRule) error {
	var broken []rbacv1.PolicyRule
	for _, r := range reviewRules(rules) {
		broken = append(broken, breakdown(r)...)
	}
	compact := compactRules(broken)
	sort.SliceStable(compact, func(i, j int) bool { return compact[i].String() < compact[j].String() })

	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "%s\n", strings.Join([]string{"Resources", "Non-Resource URLs", "Resource Names", "Verbs"}, "\t"))
	for _, r := range compact {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\n", combineResourceGroup(r.Resources, r.APIGroups), r.NonResourceURLs, r.ResourceNames, r.Verbs)
	}
	return tw.Flush()
}

// reviewRules is what a SubjectRulesReviewStatus carries: resource rules and non-resource rules apart.
func reviewRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var res, nonRes []rbacv1.PolicyRule
	for _, r := range rules {
		if len(r.Resources) > 0 {
			res = append(res, rbacv1.PolicyRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			nonRes = append(nonRes, rbacv1.PolicyRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return append(res, nonRes...)
}

func breakdown(rule rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range rule.APIGroups {
		for _, res := range rule.Resources {
			for _, v := range rule.Verbs {
				if len(rule.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v}})
					continue
				}
				for _, n := range rule.ResourceNames {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v}, ResourceNames: []string{n}})
				}
			}
		}
	}
	for _, u := range rule.NonResourceURLs {
		for _, v := range rule.Verbs {
			out = append(out, rbacv1.PolicyRule{NonResourceURLs: []string{u}, Verbs: []string{v}})
		}
	}
	return out
}

type simpleResource struct {
	group, resource string
	hasName         bool
	name            string
}

// compactRules merges the verbs of rules with one group, one resource and at most one name.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	simple := map[simpleResource]*rbacv1.PolicyRule{}
	var keys []simpleResource
	for _, r := range rules {
		key, ok := isSimple(&r)
		if !ok {
			out = append(out, r)
			continue
		}
		if existing, ok := simple[key]; ok {
			existing.Verbs = append(existing.Verbs, r.Verbs...)
			continue
		}
		simple[key] = r.DeepCopy()
		keys = append(keys, key)
	}
	for _, k := range keys {
		out = append(out, *simple[k])
	}
	return out
}

func isSimple(r *rbacv1.PolicyRule) (simpleResource, bool) {
	if len(r.ResourceNames) > 1 || len(r.NonResourceURLs) > 0 || len(r.APIGroups) != 1 || len(r.Resources) != 1 {
		return simpleResource{}, false
	}
	only := &rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: r.Resources, Verbs: r.Verbs, ResourceNames: r.ResourceNames}
	if !reflect.DeepEqual(only, r) {
		return simpleResource{}, false
	}
	k := simpleResource{group: r.APIGroups[0], resource: r.Resources[0]}
	if len(r.ResourceNames) == 1 {
		k.hasName, k.name = true, r.ResourceNames[0]
	}
	return k, true
}

// combineResourceGroup prints "resource.group/subresource" as kubectl describes rules.
func combineResourceGroup(resources, groups []string) string {
	if len(resources) == 0 {
		return ""
	}
	res, sub, hasSub := strings.Cut(resources[0], "/")
	if len(groups) > 0 && groups[0] != "" {
		res += "." + groups[0]
	}
	if hasSub {
		res += "/" + sub
	}
	return res
}
