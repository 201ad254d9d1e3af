package rbacsim

import (
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/verdict-dev/verdict/internal/parallel"
)

// Subject is a user, group or service account named in a binding.
type Subject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String reads "User alice", "Group dev", "ServiceAccount team-a/ci".
func (s Subject) String() string {
	if s.Namespace != "" {
		return s.Kind + " " + s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

// User is the identity whose permissions Diff compares for the subject: a user alone (Diff cannot
// know its groups), a member of the group and nothing else, or a service account with the groups that
// every service account has (system:serviceaccounts and system:serviceaccounts:NS).
func (s Subject) User() user.Info {
	switch s.Kind {
	case rbacv1.UserKind:
		return &user.DefaultInfo{Name: s.Name}
	case rbacv1.GroupKind:
		return &user.DefaultInfo{Groups: []string{s.Name}} // no binding names the empty user
	}
	return &user.DefaultInfo{Name: serviceAccountUser(s.Namespace, s.Name), Groups: serviceaccount.MakeGroupNames(s.Namespace)}
}

// Change is a permission that a subject gains or loses: one rule, broken down as the API server breaks
// rules down (one API group, resource, resource name or URL; verbs of one grant merged), in a
// namespace or cluster-wide (Namespace empty: every namespace and the cluster-scoped resources).
type Change struct {
	Change          string   `json:"change"` // "added" or "removed"
	Subject         Subject  `json:"subject"`
	Namespace       string   `json:"namespace"`
	Verbs           []string `json:"verbs"`
	APIGroups       []string `json:"apiGroups"`
	Resources       []string `json:"resources"`
	ResourceNames   []string `json:"resourceNames"`
	NonResourceURLs []string `json:"nonResourceURLs"`
	// Risky marks a gain that widens what the subject can reach (see RiskyRule).
	Risky bool `json:"risky"`
	// Via names the binding and role that grant the rule on the side that has it:
	// "RoleBinding team-a/read → ClusterRole secret-reader".
	Via string `json:"via"`
	// Location is the object where the change is made: the role whose rules changed (for an aggregated
	// rule, the ClusterRole it comes from) when the binding is the same on both sides, else the binding.
	// It is on the NEW side when the object is there (InNew), on the OLD side for a deleted binding.
	Location Source `json:"-"`
	InNew    bool   `json:"-"`
}

// Added and Removed are the values of Change.Change.
const (
	Added   = "added"
	Removed = "removed"
)

// Rule is the change's rule.
func (c *Change) Rule() rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: c.Verbs, APIGroups: c.APIGroups, Resources: c.Resources,
		ResourceNames: c.ResourceNames, NonResourceURLs: c.NonResourceURLs}
}

// Diff compares the permissions of every subject named in a binding of either model, cluster-wide and
// in each namespace where one of its RoleBindings is, and returns what each gains and loses.
//
// A question (subject, verb, resource, namespace, name or URL) that Authorize answers differently for
// old and new lies in a change of the subject in the right direction, in its namespace or
// cluster-wide; every change holds such a question. Rules are broken down with the API server's
// BreakdownRule, and a broken-down rule is no gain when the other side's rules cover it (Covers, then
// one request that only a wildcard can allow, which also settles what Covers leaves open, such as
// "/*" against "*"). A namespace's gains leave out what the side's cluster-wide rules already give,
// and no change is covered by another change of the same subject, direction and scope. URL rules
// count only cluster-wide: a non-resource request has no namespace, so a RoleBinding never grants one.
//
// Members of system:masters may do anything on both sides: that group has no changes.
func Diff(old, new *Model) []Change {
	d := &differ{old: old, new: new, oldIdx: indexModel(old), newIdx: indexModel(new), keys: map[*rbacv1.PolicyRule]string{}}
	d.addKeys(old)
	d.addKeys(new)
	subjects := diffSubjects(old, new)
	parts := make([][]Change, len(subjects))
	// Subjects are independent: on every core, the differ read-only.
	parallel.Each(len(subjects), 64, func(i int) {
		if s := subjects[i]; s.Kind != rbacv1.GroupKind || s.Name != user.SystemPrivilegedGroup {
			parts[i] = d.subject(s)
		}
	})
	var out []Change
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type differ struct {
	old, new       *Model
	oldIdx, newIdx *diffIndex
	keys           map[*rbacv1.PolicyRule]string
}

// diffIndex finds a model's bindings by name and the namespaces where a user or group has RoleBindings.
type diffIndex struct {
	bindings  map[string]*Binding // kind/namespace/name
	nsByUser  map[string][]string
	nsByGroup map[string][]string
}

func indexModel(m *Model) *diffIndex {
	x := &diffIndex{bindings: make(map[string]*Binding, len(m.bindings)), nsByUser: map[string][]string{}, nsByGroup: map[string][]string{}}
	for _, b := range m.bindings {
		x.bindings[b.Kind+"/"+b.Namespace+"/"+b.Name] = b
	}
	for ns, idx := range m.namespaced {
		for u := range idx.byUser {
			x.nsByUser[u] = append(x.nsByUser[u], ns)
		}
		for g := range idx.byGroup {
			x.nsByGroup[g] = append(x.nsByGroup[g], ns)
		}
	}
	return x
}

func (x *diffIndex) binding(kind, namespace, name string) *Binding {
	return x.bindings[kind+"/"+namespace+"/"+name]
}

// sourced is a rule of a role, with the binding that grants it.
type sourced struct {
	rule    *rbacv1.PolicyRule
	binding *Binding
	index   int
}

// grant is a broken-down rule and where it comes from.
type grant struct {
	rule rbacv1.PolicyRule
	from sourced
}

func (d *differ) subject(s Subject) []Change {
	u := s.User()
	oldCluster, newCluster := d.set(d.old.levelRules(u, "")), d.set(d.new.levelRules(u, ""))
	clusterSame := sameRules(oldCluster.src, newCluster.src)
	var out []Change
	if !clusterSame {
		out = append(out, d.changes(s, "", Added, d.gains(newCluster.src, []*ruleSet{oldCluster}, nil))...)
		out = append(out, d.changes(s, "", Removed, d.gains(oldCluster.src, []*ruleSet{newCluster}, nil))...)
	}
	for _, ns := range subjectNamespaces(u, d.oldIdx, d.newIdx) {
		oldNS, newNS := d.old.levelRules(u, ns), d.new.levelRules(u, ns)
		if clusterSame && sameRules(oldNS, newNS) {
			continue
		}
		oldAll := []*ruleSet{oldCluster, d.set(oldNS)}
		newAll := []*ruleSet{newCluster, d.set(newNS)}
		out = append(out, d.changes(s, ns, Added, d.gains(newNS, oldAll, newCluster))...)
		out = append(out, d.changes(s, ns, Removed, d.gains(oldNS, newAll, oldCluster))...)
	}
	sortChanges(out)
	return out
}

// ruleSet is the rules of one side at one level, with their plain list and keys made when needed.
type ruleSet struct {
	d     *differ
	src   []sourced
	list  []rbacv1.PolicyRule
	keys  map[string]bool
	ready bool
}

func (d *differ) set(src []sourced) *ruleSet { return &ruleSet{d: d, src: src} }

func (r *ruleSet) prepare() {
	if r.ready {
		return
	}
	r.ready = true
	r.list = plainRules(r.src)
	r.keys = make(map[string]bool, len(r.src))
	for _, s := range r.src {
		r.keys[r.d.key(s.rule)] = true
	}
}

// addKeys computes the ruleKey of every rule of the model's roles once.
func (d *differ) addKeys(m *Model) {
	for _, roles := range []map[string]*Role{m.roles, m.clusterRoles} {
		for _, r := range roles {
			for i := range r.Rules {
				d.keys[&r.Rules[i]] = ruleKey(r.Rules[i])
			}
		}
	}
}

// key is ruleKey of a rule of either model.
func (d *differ) key(r *rbacv1.PolicyRule) string {
	if k, ok := d.keys[r]; ok {
		return k
	}
	return ruleKey(*r)
}

// levelRules are the rules of the user's ClusterRoleBindings (namespace empty) or of its RoleBindings
// in the namespace, in the rule resolver's order.
func (m *Model) levelRules(u user.Info, namespace string) []sourced {
	idx := m.cluster
	if namespace != "" {
		if idx = m.namespaced[namespace]; idx == nil {
			return nil
		}
	}
	var out []sourced
	m.visitIndex(idx, u, namespace, func(src *RuleSource, rule *rbacv1.PolicyRule, _ error) bool {
		if rule != nil {
			out = append(out, sourced{rule: rule, binding: src.Binding, index: src.Rule})
		}
		return true
	})
	return out
}

func plainRules(rules []sourced) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rules))
	for i, r := range rules {
		out[i] = *r.rule
	}
	return out
}

// sameRules is a quick test for the common case of a subject that nothing changed for.
func sameRules(a, b []sourced) bool {
	return slices.EqualFunc(a, b, func(x, y sourced) bool { return x.rule == y.rule || ruleEqual(*x.rule, *y.rule) })
}

// gains are the broken-down rules of side that other does not cover, nor also (when not nil) the
// side's own cluster-wide rules, without those that another gain covers. A rule that other (or the
// side's cluster-wide rules) holds as it is, the common case, needs no breakdown.
func (d *differ) gains(side []sourced, other []*ruleSet, sideCluster *ruleSet) []grant {
	var found []grant
	seen := map[string]bool{}
	for _, o := range other {
		o.prepare()
	}
	if sideCluster != nil {
		sideCluster.prepare()
	}
	for _, s := range side {
		k := d.key(s.rule)
		held := sideCluster != nil && sideCluster.keys[k]
		for _, o := range other {
			held = held || o.keys[k]
		}
		if held {
			continue
		}
		var owners []rbacv1.PolicyRule
		for _, o := range other {
			owners = append(owners, candidates(o.list, s.rule)...)
		}
		_, uncovered := validation.Covers(owners, []rbacv1.PolicyRule{*s.rule})
		for _, sub := range uncovered {
			if sideCluster != nil && len(sub.NonResourceURLs) > 0 {
				continue // a RoleBinding's URL rules grant nothing: a non-resource request has no namespace
			}
			if witnessAllowed(owners, sub) || (sideCluster != nil && witnessAllowed(sideCluster.list, sub)) {
				continue
			}
			if k := ruleKey(sub); !seen[k] {
				seen[k] = true
				found = append(found, grant{rule: sub, from: s})
			}
		}
	}
	// Keep the widest gains: drop one that another covers (the earlier of two that cover each other).
	kept := found[:0:0]
	for i, g := range found {
		dropped := false
		for j, h := range found {
			if i != j && witnessAllowed([]rbacv1.PolicyRule{h.rule}, g.rule) && (j < i || !witnessAllowed([]rbacv1.PolicyRule{g.rule}, h.rule)) {
				dropped = true
				break
			}
		}
		if !dropped {
			kept = append(kept, g)
		}
	}
	return kept
}

// candidates are the rules that may cover part of rule: those with one of its verbs (or "*") and, for
// a resource rule, one of its API groups (or "*"). Covers compares every broken-down rule with every
// rule it is given; this keeps that to the few that can matter.
func candidates(rules []rbacv1.PolicyRule, rule *rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for i := range rules {
		o := &rules[i]
		if !slices.ContainsFunc(rule.Verbs, func(v string) bool { return verbMatches(o, v) }) {
			continue
		}
		if len(rule.NonResourceURLs) == 0 && !slices.ContainsFunc(rule.APIGroups, func(g string) bool { return groupMatches(o, g) }) {
			continue
		}
		out = append(out, *o)
	}
	return out
}

// covered says whether rules allow every request of a broken-down rule.
func covered(rules []rbacv1.PolicyRule, sub rbacv1.PolicyRule) bool {
	if ok, _ := validation.Covers(rules, []rbacv1.PolicyRule{sub}); ok {
		return true
	}
	return witnessAllowed(rules, sub)
}

// fresh is a verb, API group, resource or URL suffix that no rule names, so that only a wildcard matches it.
const fresh = "\x00"

// Witness is the request that decides whether a broken-down rule is covered: its own verb, group,
// resource and name, with a value that no rule names where the rule has a wildcard, and for a URL
// prefix ("/api/*") the prefix followed by such a value. Rules allow every request of the broken-down
// rule exactly when they allow this one: each field is matched on its own, and a value no rule names
// is matched only by a wildcard, which matches all. Request paths start with "/", so "*" is "/*".
func witness(sub rbacv1.PolicyRule) request {
	verb := sub.Verbs[0]
	if verb == rbacv1.VerbAll {
		verb = fresh
	}
	if len(sub.NonResourceURLs) > 0 {
		path := sub.NonResourceURLs[0]
		switch {
		case path == rbacv1.NonResourceAll:
			path = "/" + fresh
		case strings.HasSuffix(path, "*"):
			path = strings.TrimRight(path, "*") + fresh
		}
		return request{verb: verb, path: path, verbBit: requestVerbBit(verb)}
	}
	r := request{resourceRequest: true, verb: verb, group: sub.APIGroups[0], verbBit: requestVerbBit(verb)}
	if r.group == rbacv1.APIGroupAll {
		r.group = fresh
	}
	res := sub.Resources[0]
	switch {
	case res == rbacv1.ResourceAll:
		r.resource = fresh
	case strings.HasPrefix(res, "*/"):
		r.resource, r.subresource = fresh, res[2:]
	default:
		r.resource, r.subresource, _ = strings.Cut(res, "/")
	}
	if len(sub.ResourceNames) > 0 {
		r.name = sub.ResourceNames[0]
	}
	return r
}

func witnessAllowed(rules []rbacv1.PolicyRule, sub rbacv1.PolicyRule) bool {
	w := witness(sub)
	for i := range rules {
		if ruleAllows(&w, &rules[i]) {
			return true
		}
	}
	return false
}

func ruleKey(r rbacv1.PolicyRule) string {
	return strings.Join([]string{strings.Join(r.Verbs, ","), strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","),
		strings.Join(r.ResourceNames, ","), strings.Join(r.NonResourceURLs, ",")}, "\x01")
}

// changes turns the gains of one side into changes, merging the verbs of one grant of one resource.
func (d *differ) changes(s Subject, namespace, direction string, gs []grant) []Change {
	side, other, otherIdx := d.new, d.old, d.oldIdx
	if direction == Removed {
		side, other, otherIdx = d.old, d.new, d.newIdx
	}
	var out []Change
	index := map[string]int{}
	for _, g := range gs {
		risky := direction == Added && RiskyRule(g.rule)
		via := g.from.binding.String() + " → " + g.from.binding.RoleRefString()
		if origin := ruleOrigin(g.from); origin != "" {
			via += " (aggregated from ClusterRole " + origin + ")"
		}
		r := g.rule
		r.Verbs = nil
		key := ruleKey(r) + "\x02" + via + "\x02" + boolKey(risky)
		if i, ok := index[key]; ok {
			if !slices.Contains(out[i].Verbs, g.rule.Verbs[0]) {
				out[i].Verbs = append(out[i].Verbs, g.rule.Verbs[0])
			}
			continue
		}
		index[key] = len(out)
		c := Change{Change: direction, Subject: s, Namespace: namespace, Verbs: slices.Clone(g.rule.Verbs),
			APIGroups: nonNil(g.rule.APIGroups), Resources: nonNil(g.rule.Resources), ResourceNames: nonNil(g.rule.ResourceNames),
			NonResourceURLs: nonNil(g.rule.NonResourceURLs), Risky: risky, Via: via}
		c.Location, c.InNew = locate(g.from, side, other, otherIdx, s, direction == Added)
		out = append(out, c)
	}
	return out
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// ruleOrigin is the ClusterRole an aggregated rule comes from, or "".
func ruleOrigin(s sourced) string {
	if o := s.binding.Role.RuleOrigins; s.index < len(o) {
		return o[s.index]
	}
	return ""
}

// locate finds the object to point at for a change granted by from on side: when other has the same
// binding, with the same role and applying to the subject, the role changed; else the binding did.
// The object is taken from the NEW side when it is there.
func locate(from sourced, side, other *Model, otherIdx *diffIndex, s Subject, sideIsNew bool) (Source, bool) {
	b := from.binding
	ob := otherIdx.binding(b.Kind, b.Namespace, b.Name)
	sameGrant := ob != nil && ob.RoleRef == b.RoleRef && appliesTo(ob, s)
	newModel, newBinding := side, b
	if !sideIsNew {
		newModel, newBinding = other, ob
	}
	if newBinding == nil {
		return b.Source, false // a deleted binding: only the OLD side has it
	}
	if !sameGrant {
		return newBinding.Source, true
	}
	if origin := ruleOrigin(from); origin != "" {
		if r := newModel.ClusterRole(origin); r != nil {
			return r.Source, true
		}
	}
	if newBinding.Role != nil {
		return newBinding.Role.Source, true
	}
	return newBinding.Source, true
}

func appliesTo(b *Binding, s Subject) bool {
	u := s.User()
	_, list := firstList(b, u.GetName(), u.GetGroups(), b.Namespace)
	return list != -2
}

func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := &cs[i], &cs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Change != b.Change {
			return a.Change == Added
		}
		if (len(a.NonResourceURLs) > 0) != (len(b.NonResourceURLs) > 0) {
			return len(a.NonResourceURLs) == 0
		}
		for _, p := range [][2][]string{{a.APIGroups, b.APIGroups}, {a.Resources, b.Resources}, {a.ResourceNames, b.ResourceNames}, {a.NonResourceURLs, b.NonResourceURLs}} {
			if x, y := strings.Join(p[0], ","), strings.Join(p[1], ","); x != y {
				return x < y
			}
		}
		return a.Via < b.Via
	})
}

// diffSubjects are the subjects named in the bindings of either model, sorted by kind (User, Group,
// ServiceAccount), namespace and name. A ServiceAccount subject without a namespace takes its
// RoleBinding's; one of a ClusterRoleBinding without a namespace names nobody.
func diffSubjects(models ...*Model) []Subject {
	seen := map[Subject]bool{}
	var out []Subject
	for _, m := range models {
		for _, b := range m.bindings {
			for _, s := range b.Subjects {
				sub := Subject{Kind: s.Kind, Name: s.Name}
				switch s.Kind {
				case rbacv1.ServiceAccountKind:
					sub.Namespace = s.Namespace
					if sub.Namespace == "" {
						sub.Namespace = b.Namespace
					}
					if sub.Namespace == "" {
						continue
					}
				case rbacv1.UserKind, rbacv1.GroupKind:
				default:
					continue
				}
				if !seen[sub] {
					seen[sub] = true
					out = append(out, sub)
				}
			}
		}
	}
	rank := map[string]int{rbacv1.UserKind: 0, rbacv1.GroupKind: 1, rbacv1.ServiceAccountKind: 2}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

// subjectNamespaces are the namespaces where a RoleBinding of either model applies to the user.
func subjectNamespaces(u user.Info, indexes ...*diffIndex) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range indexes {
		add := func(namespaces []string) {
			for _, ns := range namespaces {
				if !seen[ns] {
					seen[ns] = true
					out = append(out, ns)
				}
			}
		}
		add(m.nsByUser[u.GetName()])
		for _, g := range u.GetGroups() {
			add(m.nsByGroup[g])
		}
	}
	sort.Strings(out)
	return out
}

// exampleValue stands for "any" in Change.Example: a value that rules do not name.
const exampleValue = "verdict-any"

// Example is a request of the change that OLD and NEW answer differently (for its first verb, and
// without a user): the rule's own values, "verdict-any" where the rule has a wildcard, the URL prefix
// followed by it for "/api/*", and the change's namespace. A SubjectAccessReview of it as the
// change's subject is denied on one side and allowed on the other.
func (c *Change) Example() authorizer.AttributesRecord {
	sub := c.Rule()
	sub.Verbs = c.Verbs[:1]
	w := witness(sub)
	fix := func(s string) string { return strings.ReplaceAll(s, fresh, exampleValue) }
	a := authorizer.AttributesRecord{Verb: fix(w.verb), Namespace: c.Namespace}
	if !w.resourceRequest {
		a.Path, a.Namespace = fix(w.path), ""
		return a
	}
	a.ResourceRequest = true
	a.APIGroup, a.Resource, a.Subresource, a.Name = fix(w.group), fix(w.resource), fix(w.subresource), w.name
	return a
}

// Matches says whether a request, its user aside, lies in the change: in its namespace (any, for a
// cluster-wide change) and allowed by its rule.
func (c *Change) Matches(a authorizer.Attributes) bool {
	if c.Namespace != "" && a.GetNamespace() != c.Namespace {
		return false
	}
	r, rule := requestFrom(a), c.Rule()
	return ruleAllows(&r, &rule)
}
