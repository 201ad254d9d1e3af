package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"

	"github.com/verdict-dev/verdict/rbacsim"
)

// TestRBACDiffChanges loads random RBAC objects (OLD) into a real kube-apiserver, changes them as a
// pull request would (NEW: rules added and removed, subjects added, bindings deleted and created, an
// aggregation label moved), and checks that every change rbacsim's Diff reports is real: its Example
// request, asked of the API server as the change's subject, is answered one way before the change and
// the other way after it, both asked of the API server.
func TestRBACDiffChanges(t *testing.T) {
	w := startRBACWorld(t, *paritySeed+2)
	ctx, cs, bootstrap, g, old := t.Context(), w.cs, w.bootstrap, w.gen, w.objs
	oldModel := modelOf(t, bootstrap, old.yaml(t))
	w.synced(t, oldModel)

	// NEW, and the same edits to be made in the cluster once the API server has answered for OLD.
	nw := copyParity(old)
	rbac := cs.RbacV1()
	var apply []func() error
	for i := range 3 {
		cr := nw.clusterRoles[len(nw.clusterRoles)-1-i*5]
		cr.Rules = append(cr.Rules, g.Rule(false))
		apply = append(apply, func() error { _, err := rbac.ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{}); return err })
		r := nw.roles[i*5]
		r.Rules = r.Rules[1:]
		apply = append(apply, func() error { _, err := rbac.Roles(r.Namespace).Update(ctx, r, metav1.UpdateOptions{}); return err })
		rb := nw.roleBindings[i*7]
		rb.Subjects = append(rb.Subjects, g.Subjects(rb.Namespace)...)
		apply = append(apply, func() error {
			_, err := rbac.RoleBindings(rb.Namespace).Update(ctx, rb, metav1.UpdateOptions{})
			return err
		})
	}
	for range 2 {
		crb := nw.clusterRoleBindings[0]
		nw.clusterRoleBindings = nw.clusterRoleBindings[1:]
		apply = append(apply, func() error { return rbac.ClusterRoleBindings().Delete(ctx, crb.Name, metav1.DeleteOptions{}) })
	}
	for i := range 2 {
		ns := g.Namespaces[i]
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("new-%d", i)},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: nw.clusterRoles[len(nw.clusterRoles)-1-i].Name}, Subjects: g.Subjects(ns)}
		nw.roleBindings = append(nw.roleBindings, rb)
		apply = append(apply, func() error { _, err := rbac.RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); return err })
	}
	for _, cr := range nw.clusterRoles {
		if strings.HasPrefix(cr.Name, "cr-") && cr.Labels["parity.test/up-0"] != "true" {
			if cr.Labels == nil {
				cr.Labels = map[string]string{}
			}
			cr.Labels["parity.test/up-0"] = "true" // agg-0 now aggregates it
			apply = append(apply, func() error { _, err := rbac.ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{}); return err })
			break
		}
	}
	newModel := modelOf(t, bootstrap, nw.yaml(t))
	changes := rbacsim.Diff(oldModel, newModel)
	if len(changes) < 10 {
		t.Fatalf("only %d changes: the edits do not discriminate", len(changes))
	}
	before := askChanges(t, cs, changes)
	// Subjects with changes get many questions, the others a few (they must see no difference).
	changed := map[rbacsim.Subject]bool{}
	for _, c := range changes {
		changed[c.Subject] = true
	}
	questions := diffQuestions(g, oldModel, newModel, changed, old, nw)
	questionsBefore := askQuestions(t, cs, questions)
	for _, do := range apply {
		mustDo(t, do)
	}
	waitAggregated(t, cs, newModel)
	// The authorizer's caches catch up with the edits in a moment: ask until every answer is as
	// expected or 30 s have passed.
	deadline := time.Now().Add(30 * time.Second)
	var failures []string
	for {
		failures = failures[:0]
		after := askChanges(t, cs, changes)
		for i := range changes {
			c := &changes[i]
			want := c.Change == rbacsim.Added
			if before[i] == want || after[i] != want {
				failures = append(failures, fmt.Sprintf("%s: kube-apiserver answers its example %s with allowed=%v before the edits and %v after",
					c.Sentence(), exampleString(c), before[i], after[i]))
			}
		}
		if len(failures) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	questionsAfter := askQuestions(t, cs, questions)
	differing := 0
	for i, q := range questions {
		if questionsBefore[i] == questionsAfter[i] {
			continue
		}
		differing++
		in := false
		for j := range changes {
			c := &changes[j]
			if c.Subject == q.subject && (c.Change == rbacsim.Added) == questionsAfter[i] && c.Matches(q.attrs) {
				in = true
				break
			}
		}
		if !in {
			failures = append(failures, fmt.Sprintf("%s %+v: kube-apiserver allowed=%v before and %v after, and no change says so", q.subject, q.attrs, questionsBefore[i], questionsAfter[i]))
		}
	}
	t.Logf("%d questions of the subjects asked before and after the edits, %d answered differently", len(questions), differing)
	if differing == 0 {
		t.Error("no question answered differently: the questions do not discriminate")
	}
	added := 0
	for _, c := range changes {
		if c.Change == rbacsim.Added {
			added++
		}
	}
	t.Logf("%d changes (%d added, %d removed); %d not confirmed by kube-apiserver", len(changes), added, len(changes)-added, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d changes not confirmed (first %d):\n%s", len(failures), min(len(failures), 20), strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
}

func copyParity(o *parityObjects) *parityObjects {
	c := &parityObjects{}
	for _, x := range o.clusterRoles {
		c.clusterRoles = append(c.clusterRoles, x.DeepCopy())
	}
	for _, x := range o.roles {
		c.roles = append(c.roles, x.DeepCopy())
	}
	for _, x := range o.clusterRoleBindings {
		c.clusterRoleBindings = append(c.clusterRoleBindings, x.DeepCopy())
	}
	for _, x := range o.roleBindings {
		c.roleBindings = append(c.roleBindings, x.DeepCopy())
	}
	return c
}

func mustDo(t *testing.T, do func() error) {
	t.Helper()
	if err := do(); err != nil {
		t.Fatal(err)
	}
}

func exampleString(c *rbacsim.Change) string {
	a := c.Example()
	if !a.ResourceRequest {
		return a.Verb + " " + a.Path
	}
	return fmt.Sprintf("%s group=%q resource=%q subresource=%q name=%q namespace=%q", a.Verb, a.APIGroup, a.Resource, a.Subresource, a.Name, a.Namespace)
}

// askChanges asks the API server each change's example as its subject.
func askChanges(t *testing.T, cs kubernetes.Interface, changes []rbacsim.Change) []bool {
	out := make([]bool, len(changes))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(changes); i += 8 {
				c := &changes[i]
				u := c.Subject.User()
				name := u.GetName()
				if name == "" {
					name = "e2e-member-of-" + c.Subject.Name
				}
				a := c.Example()
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: name, Groups: u.GetGroups()}}
				if a.ResourceRequest {
					sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
				} else {
					sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
				}
				res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				out[i] = res.Status.Allowed
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return out
}

type diffQuestion struct {
	subject rbacsim.Subject
	attrs   authorizer.AttributesRecord
}

// diffQuestions draws resource questions for each subject of either model from the parity pools, and the
// URL paths.
func diffQuestions(g *parityGen, oldModel, newModel *rbacsim.Model, changed map[rbacsim.Subject]bool, objs ...*parityObjects) []diffQuestion {
	models := []*rbacsim.Model{oldModel, newModel}
	// Most questions aim at a rule of the objects: its verb, group, resource and name.
	var rules []rbacv1.PolicyRule
	for _, o := range objs {
		for _, r := range o.clusterRoles {
			rules = append(rules, r.Rules...)
		}
		for _, r := range o.roles {
			rules = append(rules, r.Rules...)
		}
	}
	aim := func(a *authorizer.AttributesRecord, r rbacv1.PolicyRule) {
		if len(r.Resources) == 0 {
			return
		}
		if v := g.Pick(r.Verbs); v != "*" {
			a.Verb = v
		}
		if gr := g.Pick(r.APIGroups); gr != "*" {
			a.APIGroup = gr
		}
		res, sub, _ := strings.Cut(g.Pick(r.Resources), "/")
		if res != "*" {
			a.Resource = res
		}
		a.Subresource = sub
		if len(r.ResourceNames) > 0 {
			a.Name = g.Pick(r.ResourceNames)
		}
	}
	seen := map[rbacsim.Subject]bool{}
	var out []diffQuestion
	for _, m := range models {
		for _, s := range m.EscalationSubjects() {
			if seen[s] {
				continue
			}
			seen[s] = true
			n := 30
			if changed[s] {
				n = 600
			}
			for range n {
				a := authorizer.AttributesRecord{Verb: g.Pick(parityVerbs), ResourceRequest: true, APIGroup: g.Pick(parityGroups),
					Resource: g.Pick(parityPlain), Namespace: g.Pick(append([]string{"", "elsewhere"}, g.Namespaces...))}
				if g.Rand.IntN(3) == 0 {
					a.Subresource = g.Pick(paritySubs)
				}
				if g.Rand.IntN(2) == 0 {
					a.Name = g.Pick(parityNames)
				}
				if len(rules) > 0 && g.Rand.IntN(3) > 0 {
					aim(&a, rules[g.Rand.IntN(len(rules))])
				}
				out = append(out, diffQuestion{s, a})
			}
			for _, p := range parityPaths {
				out = append(out, diffQuestion{s, authorizer.AttributesRecord{Verb: g.Pick(parityURLVerbs), Path: p}})
			}
		}
	}
	return out
}

func askQuestions(t *testing.T, cs kubernetes.Interface, qs []diffQuestion) []bool {
	out := make([]bool, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(qs); i += 8 {
				u := qs[i].subject.User()
				name := u.GetName()
				if name == "" {
					name = "e2e-member-of-" + qs[i].subject.Name
				}
				a := qs[i].attrs
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: name, Groups: u.GetGroups()}}
				if a.ResourceRequest {
					sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
				} else {
					sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
				}
				res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
				if err != nil {
					errs[i] = err
					continue
				}
				out[i] = res.Status.Allowed
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
