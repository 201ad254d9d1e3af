package rbacsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/internal/fixtures"
)

// diffWorld draws small random RBAC worlds from pools that meet often, with the end-to-end parity
// test's generator of rules and subjects (fixtures.RBAC) on smaller pools: wildcards, subresources,
// resource names, URL prefixes, aggregation, missing roles, and every kind of subject.
type diffWorld struct{ *fixtures.RBAC }

func newDiffWorld(seed, stream uint64) *diffWorld {
	return &diffWorld{&fixtures.RBAC{Rand: rand.New(rand.NewPCG(seed, stream)), RBACPools: dwPools, Star: 8, MaxRules: 3, MaxSubjects: 2}}
}

var (
	dwPools = fixtures.RBACPools{
		Verbs:           []string{"get", "list", "create", "update", "delete", "bind", "escalate", "impersonate", "frobnicate"},
		URLVerbs:        []string{"get", "post"},
		APIGroups:       []string{"", "apps", "batch", "example.com"},
		Resources:       []string{"pods", "pods/log", "pods/exec", "deployments", "deployments/scale", "*/scale", "secrets", "configmaps", "jobs", "pods/*", "serviceaccounts/token"},
		ResourceNames:   []string{"web", "db"},
		NonResourceURLs: []string{"/healthz", "/healthz/*", "/api/*", "/apis*", "*", "/*", "/version", "/ap*"},
		Users:           []string{"alice", "bob", "system:serviceaccount:ns-a:sa1"},
		Groups:          []string{"dev", "ops", "system:serviceaccounts", "system:serviceaccounts:ns-a", "system:masters"},
		ServiceAccounts: []string{"sa1", "sa2"},
		Namespaces:      dwNS,
	}
	dwPlain = []string{"pods", "deployments", "secrets", "configmaps", "jobs", "serviceaccounts"}
	dwSubs  = []string{"log", "exec", "scale", "token", "*"}
	dwPaths = []string{"/healthz", "/healthz/", "/healthz/ready", "/api", "/api/", "/api/v1", "/apis", "/apis/apps", "/version", "/ap", "/", "/x"}
	dwNS    = []string{"ns-a", "ns-b"}
)

func (g *diffWorld) roleRef(clusterRoles int, namespaced bool) rbacv1.RoleRef {
	if namespaced && g.Rand.IntN(2) == 0 {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("role-%d", g.Rand.IntN(4))} // role-3 is missing
	}
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%d", g.Rand.IntN(clusterRoles+1))} // one is missing
}

// objects draws a world: ClusterRoles cr-0..cr-5 (cr-5 aggregates those labelled agg), three Roles per
// namespace, and a few bindings.
func (g *diffWorld) objects() *Objects {
	o := &Objects{Sources: map[any]Source{}}
	for i := range 5 {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i)}, Rules: g.Rules(false)}
		if g.Rand.IntN(3) == 0 {
			cr.Labels = map[string]string{"agg": "yes"}
		}
		o.ClusterRoles = append(o.ClusterRoles, cr)
	}
	o.ClusterRoles = append(o.ClusterRoles, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr-5"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": "yes"}}}}})
	for _, ns := range dwNS {
		for i := range 3 {
			o.Roles = append(o.Roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role-%d", i)}, Rules: g.Rules(true)})
		}
	}
	for i := range 4 {
		o.ClusterRoleBindings = append(o.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
			RoleRef: g.roleRef(6, false), Subjects: g.Subjects("")})
	}
	for _, ns := range dwNS {
		for i := range 4 {
			o.RoleBindings = append(o.RoleBindings, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%d", i)},
				RoleRef: g.roleRef(6, true), Subjects: g.Subjects(ns)})
		}
	}
	return o
}

// change applies one to three random edits of the kinds a pull request makes.
func (g *diffWorld) change(o *Objects) []string {
	var did []string
	for range 1 + g.Rand.IntN(3) {
		switch g.Rand.IntN(9) {
		case 0:
			r := o.ClusterRoles[g.Rand.IntN(5)]
			r.Rules = append(r.Rules, g.Rule(false))
			did = append(did, "rule added to ClusterRole "+r.Name)
		case 1:
			r := o.Roles[g.Rand.IntN(len(o.Roles))]
			if len(r.Rules) > 0 {
				r.Rules = slices.Delete(r.Rules, 0, 1)
			}
			did = append(did, "rule removed from Role "+r.Namespace+"/"+r.Name)
		case 2:
			r := o.ClusterRoles[g.Rand.IntN(5)]
			if len(r.Rules) > 0 {
				i := g.Rand.IntN(len(r.Rules))
				r.Rules[i] = g.Rule(false)
			}
			did = append(did, "rule replaced in ClusterRole "+r.Name)
		case 3:
			b := o.RoleBindings[g.Rand.IntN(len(o.RoleBindings))]
			b.Subjects = append(b.Subjects, g.Subjects(b.Namespace)...)
			did = append(did, "subjects added to RoleBinding "+b.Namespace+"/"+b.Name)
		case 4:
			b := o.ClusterRoleBindings[g.Rand.IntN(len(o.ClusterRoleBindings))]
			b.RoleRef = g.roleRef(6, false)
			did = append(did, "ClusterRoleBinding "+b.Name+" now refers to "+b.RoleRef.Name)
		case 5:
			i := g.Rand.IntN(len(o.RoleBindings))
			did = append(did, "RoleBinding "+o.RoleBindings[i].Namespace+"/"+o.RoleBindings[i].Name+" deleted")
			o.RoleBindings = slices.Delete(o.RoleBindings, i, i+1)
		case 6:
			ns := g.Pick(dwNS)
			o.RoleBindings = append(o.RoleBindings, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("new-%d", g.Rand.IntN(1000))},
				RoleRef: g.roleRef(6, true), Subjects: g.Subjects(ns)})
			did = append(did, "RoleBinding added in "+ns)
		case 7:
			r := o.ClusterRoles[g.Rand.IntN(5)]
			if r.Labels == nil {
				r.Labels = map[string]string{"agg": "yes"}
			} else {
				r.Labels = nil
			}
			did = append(did, "aggregation label of ClusterRole "+r.Name+" flipped")
		default:
			b := o.ClusterRoleBindings[g.Rand.IntN(len(o.ClusterRoleBindings))]
			if len(b.Subjects) > 1 {
				b.Subjects = b.Subjects[1:]
			} else {
				b.Subjects = g.Subjects("")
			}
			did = append(did, "subjects of ClusterRoleBinding "+b.Name+" changed")
		}
	}
	return did
}

// diffQuestion is a request of a subject, as Diff's subjects make them.
type diffQuestion struct {
	subject Subject
	req     request
	ns      string
}

func (q diffQuestion) String() string {
	if !q.req.resourceRequest {
		return fmt.Sprintf("%s: %s %s", q.subject, q.req.verb, q.req.path)
	}
	return fmt.Sprintf("%s: %s group=%q resource=%q subresource=%q name=%q namespace=%q", q.subject, q.req.verb, q.req.group, q.req.resource, q.req.subresource, q.req.name, q.ns)
}

func (q diffQuestion) allowedBy(t *testing.T, m *Model) bool {
	a := authorizer.AttributesRecord{User: q.subject.User(), Verb: q.req.verb, Path: q.req.path, ResourceRequest: q.req.resourceRequest,
		APIGroup: q.req.group, Resource: q.req.resource, Subresource: q.req.subresource, Name: q.req.name, Namespace: q.ns}
	d, _, err := m.Authorize(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return d == authorizer.DecisionAllow
}

// The test's own values that no rule names (Diff uses others).
const qFresh = "zz-unnamed"

// questions are every combination of the pools' values and one unnamed value per field, for the subject.
func diffQuestions(s Subject) []diffQuestion {
	var out []diffQuestion
	for _, v := range append(slices.Clone(dwPools.URLVerbs), qFresh) {
		for _, p := range append(slices.Clone(dwPaths), "/"+qFresh, "/api/"+qFresh, "/healthz/"+qFresh) {
			out = append(out, diffQuestion{subject: s, req: request{verb: v, path: p, verbBit: requestVerbBit(v)}})
		}
	}
	for _, v := range append(slices.Clone(dwPools.Verbs), qFresh) {
		for _, grp := range append(slices.Clone(dwPools.APIGroups), qFresh) {
			for _, res := range append(slices.Clone(dwPlain), qFresh) {
				for _, sub := range append([]string{"", qFresh}, dwSubs...) {
					for _, name := range append([]string{"", qFresh}, dwPools.ResourceNames...) {
						for _, ns := range append([]string{"", qFresh}, dwNS...) {
							out = append(out, diffQuestion{subject: s, ns: ns, req: request{resourceRequest: true, verb: v, group: grp,
								resource: res, subresource: sub, name: name, verbBit: requestVerbBit(v)}})
						}
					}
				}
			}
		}
	}
	return out
}

// matches says whether a change is about the question.
func (c *Change) matches(q diffQuestion) bool {
	if c.Subject != q.subject || (c.Namespace != "" && c.Namespace != q.ns) {
		return false
	}
	rule := c.Rule()
	return ruleAllows(&q.req, &rule)
}

// changeCovers says whether change a covers change b: a wider or equal scope and a covering rule.
func changeCovers(a, b *Change) bool {
	return a.Subject == b.Subject && (a.Namespace == "" || a.Namespace == b.Namespace) && covered([]rbacv1.PolicyRule{a.Rule()}, b.Rule())
}

// testWitness is a request of a change's rule built with the test's own unnamed values.
func testWitness(c *Change) diffQuestion {
	verb := c.Verbs[0]
	if verb == "*" {
		verb = qFresh
	}
	q := diffQuestion{subject: c.Subject, ns: c.Namespace}
	if len(c.NonResourceURLs) > 0 {
		p := c.NonResourceURLs[0]
		if strings.HasSuffix(p, "*") {
			p = strings.TrimRight(p, "*")
			if p == "" {
				p = "/"
			}
			p += qFresh
		}
		q.req, q.ns = request{verb: verb, path: p, verbBit: requestVerbBit(verb)}, "" // no namespace, as in the API server
		return q
	}
	q.req = request{resourceRequest: true, verb: verb, group: c.APIGroups[0], verbBit: requestVerbBit(verb)}
	if q.req.group == "*" {
		q.req.group = qFresh
	}
	res, sub, _ := strings.Cut(c.Resources[0], "/")
	if res == "*" {
		res = qFresh
	}
	q.req.resource, q.req.subresource = res, sub
	if len(c.ResourceNames) > 0 {
		q.req.name = c.ResourceNames[0]
	}
	return q
}

// TestDiffExact checks Diff against the authorizer on random pairs of worlds: every question whose
// answer differs lies in exactly one change of its subject in the right direction (or in several
// changes none of which covers another, where wildcards overlap), none in the wrong direction, and
// every change holds a question whose answer differs in its direction.
func TestDiffExact(t *testing.T) {
	worlds := 60
	if testing.Short() {
		worlds = 15
	}
	totalChanges, totalDiffering, overlaps := 0, 0, 0
	for seed := range uint64(worlds) {
		g := newDiffWorld(seed, 7)
		oldObjs := g.objects()
		newG := newDiffWorld(seed, 7)
		newObjs := newG.objects()
		newG.Rand = rand.New(rand.NewPCG(seed, 8))
		did := newG.change(newObjs)
		oldM, newM := NewModel(oldObjs), NewModel(newObjs)
		changes := Diff(oldM, newM)
		totalChanges += len(changes)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d (%s): %s", seed, strings.Join(did, "; "), fmt.Sprintf(format, args...))
		}
		for i := range changes {
			c := &changes[i]
			w := testWitness(c)
			was, now := w.allowedBy(t, oldM), w.allowedBy(t, newM)
			if want := c.Change == Added; now != want || was == want {
				fail("change %q: its request %s was allowed=%v, now allowed=%v", c.Sentence(), w, was, now)
			}
			ex := c.Example()
			ex.User = c.Subject.User()
			dOld, _, _ := oldM.Authorize(context.Background(), ex)
			dNew, _, _ := newM.Authorize(context.Background(), ex)
			if (dNew == authorizer.DecisionAllow) != (c.Change == Added) || (dOld == authorizer.DecisionAllow) == (c.Change == Added) {
				fail("change %q: its Example %+v is answered %v before and %v after", c.Sentence(), ex, dOld, dNew)
			}
		}
		for _, s := range diffSubjects(oldM, newM) {
			if s.Kind == rbacv1.GroupKind && s.Name == "system:masters" {
				continue
			}
			for _, q := range diffQuestions(s) {
				was, now := q.allowedBy(t, oldM), q.allowedBy(t, newM)
				var right, wrong []*Change
				for i := range changes {
					c := &changes[i]
					if !c.matches(q) {
						continue
					}
					if (c.Change == Added) == now && was != now {
						right = append(right, c)
					} else if was != now {
						wrong = append(wrong, c)
					}
				}
				if was == now {
					continue
				}
				totalDiffering++
				switch {
				case len(right) == 0:
					fail("%s: was allowed=%v, now allowed=%v, and no change says so", q, was, now)
				case len(wrong) > 0:
					fail("%s: was allowed=%v, now allowed=%v, yet change %q says the opposite", q, was, now, wrong[0].Sentence())
				case len(right) > 1:
					overlaps++
					for _, a := range right {
						for _, b := range right {
							if a != b && changeCovers(a, b) {
								fail("%s lies in change %q, which covers change %q too", q, a.Sentence(), b.Sentence())
							}
						}
					}
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d world pairs: %d changes reported, %d differing questions (%d in overlapping wildcard changes)", worlds, totalChanges, totalDiffering, overlaps)
	if totalChanges == 0 || totalDiffering == 0 {
		t.Error("the worlds do not discriminate")
	}
}

// TestDiffSymmetric checks that what Diff(a, b) says is added, Diff(b, a) says is removed, with the
// same grant, and that a world compared with itself has no changes.
func TestDiffSymmetric(t *testing.T) {
	flat := func(cs []Change, direction string) map[string]bool {
		out := map[string]bool{}
		for _, c := range cs {
			if c.Change != direction {
				continue
			}
			for _, v := range c.Verbs {
				r := c.Rule()
				r.Verbs = []string{v}
				out[c.Subject.String()+"|"+c.Namespace+"|"+ruleKey(r)+"|"+c.Via] = true
			}
		}
		return out
	}
	for seed := range uint64(100) {
		g := newDiffWorld(seed, 9)
		a := g.objects()
		b := g.objects()
		ma, mb := NewModel(a), NewModel(b)
		if same := Diff(ma, NewModel(a)); len(same) != 0 {
			t.Fatalf("seed %d: a world differs from itself: %s", seed, same[0].Sentence())
		}
		ab, ba := Diff(ma, mb), Diff(mb, ma)
		for _, pair := range [][2]map[string]bool{{flat(ab, Added), flat(ba, Removed)}, {flat(ab, Removed), flat(ba, Added)}} {
			for k := range pair[0] {
				if !pair[1][k] {
					t.Errorf("seed %d: %q in one direction only", seed, k)
				}
			}
			if len(pair[0]) != len(pair[1]) {
				t.Errorf("seed %d: %d changes one way, %d the other", seed, len(pair[0]), len(pair[1]))
			}
		}
	}
}
