package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/verdict-dev/verdict/internal/fixtures"
	"github.com/verdict-dev/verdict/rbacsim"
)

var (
	paritySeed      = flag.Uint64("rbac-parity-seed", 20260705, "seed of the RBAC parity test's objects and questions")
	parityQuestions = flag.Int("rbac-parity-questions", 10000, "questions the RBAC parity test asks")
)

// TestRBACParity loads random RBAC objects into a real kube-apiserver, lets kube-controller-manager's
// ClusterRole aggregation controller aggregate them, asks the API server thousands of
// SubjectAccessReviews and checks that rbacsim, given the same objects as manifests (and the
// cluster's bootstrap policy), answers every one the same way.
func TestRBACParity(t *testing.T) {
	start := time.Now()
	w := startRBACWorld(t, *paritySeed)
	ctx, cs, g, objs := t.Context(), w.cs, w.gen, w.objs
	manifests := objs.yaml(t)

	parsed, err := rbacsim.Parse("parity.yaml", manifests)
	if err != nil {
		t.Fatalf("rbacsim refuses objects the API server accepted: %v", err)
	}
	all := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	all.Append(w.bootstrap)
	all.Append(parsed)
	model := rbacsim.NewModel(all)
	for _, n := range model.Notes() {
		t.Logf("note: %s", n)
	}

	w.synced(t, model)
	setup := time.Since(start)

	questions := g.questions(*parityQuestions)
	asked := time.Now()
	answers := askAll(t, cs, questions)
	elapsed := time.Since(asked)

	var diffs []string
	allowedCount := 0
	for i, q := range questions {
		d, reason, err := model.Authorize(ctx, q.attributes())
		if err != nil {
			t.Fatalf("question %d: rbacsim: %v", i, err)
		}
		got := d == authorizer.DecisionAllow
		if answers[i].Allowed {
			allowedCount++
		}
		if got != answers[i].Allowed {
			diffs = append(diffs, fmt.Sprintf("%s: kube-apiserver allowed=%v (%q), rbacsim allowed=%v (%q)",
				q, answers[i].Allowed, answers[i].Reason, got, reason))
		}
	}
	t.Logf("seed %d: %d ClusterRoles, %d Roles, %d ClusterRoleBindings, %d RoleBindings generated; %d questions (%d allowed) "+
		"asked in %s (%.0f/s), setup %s; %d differences",
		*paritySeed, len(objs.clusterRoles), len(objs.roles), len(objs.clusterRoleBindings), len(objs.roleBindings),
		len(questions), allowedCount, elapsed.Round(time.Millisecond), float64(len(questions))/elapsed.Seconds(),
		setup.Round(time.Millisecond), len(diffs))
	if len(diffs) > 0 {
		shown := diffs[:min(len(diffs), 25)]
		t.Errorf("%d of %d answers differ (first %d):\n%s", len(diffs), len(questions), len(shown), strings.Join(shown, "\n"))
	}
	if allowedCount == 0 || allowedCount == len(questions) {
		t.Errorf("%d of %d questions allowed: the questions do not discriminate", allowedCount, len(questions))
	}
}

// fastClient is a clientset without client-side rate limits, for many small requests.
func fastClient(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 10000, 10000
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// --- objects ---

// parityObjects are generated RBAC objects, in the order they are created.
type parityObjects struct {
	clusterRoles        []*rbacv1.ClusterRole
	roles               []*rbacv1.Role
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	roleBindings        []*rbacv1.RoleBinding
}

func (o *parityObjects) yaml(t *testing.T) []byte {
	t.Helper()
	var b []byte
	add := func(apiKind string, obj any) {
		data, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: "+apiKind+"\n"...)
		b = append(b, data...)
	}
	for _, r := range o.clusterRoles {
		add("ClusterRole", r)
	}
	for _, r := range o.roles {
		add("Role", r)
	}
	for _, b := range o.clusterRoleBindings {
		add("ClusterRoleBinding", b)
	}
	for _, b := range o.roleBindings {
		add("RoleBinding", b)
	}
	return b
}

func createRBAC(t *testing.T, cs kubernetes.Interface, o *parityObjects) {
	t.Helper()
	ctx := t.Context()
	rbac := cs.RbacV1()
	for _, r := range o.clusterRoles {
		if _, err := rbac.ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating ClusterRole %s: %v", r.Name, err)
		}
	}
	for _, r := range o.roles {
		if _, err := rbac.Roles(r.Namespace).Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating Role %s/%s: %v", r.Namespace, r.Name, err)
		}
	}
	for _, b := range o.clusterRoleBindings {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating ClusterRoleBinding %s: %v", b.Name, err)
		}
	}
	for _, b := range o.roleBindings {
		if _, err := rbac.RoleBindings(b.Namespace).Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating RoleBinding %s/%s: %v", b.Namespace, b.Name, err)
		}
	}
}

// parityGen draws objects and questions from small pools, so that they meet often; its rules and
// subjects are fixtures.RBAC's, as rbacsim's own differential tests draw them.
type parityGen struct {
	*fixtures.RBAC
	objs *parityObjects
	// aggregated is the number of aggregating ClusterRoles, agg-0 ... agg-N-1; agg-i selects the
	// labels up-i, and roles may carry up-j only for j > i of an aggregating role, so that
	// aggregation is a DAG, as it must be for a controller to converge.
	aggregated int
}

func newParityGen(seed uint64) *parityGen {
	return &parityGen{RBAC: &fixtures.RBAC{Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), RBACPools: parityPools, Star: 10, MaxRules: 4, MaxSubjects: 3}, aggregated: 6}
}

var (
	parityVerbs      = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "use", "frobnicate"}
	parityURLVerbs   = []string{"get", "post", "put", "head", "delete"}
	parityGroups     = []string{"", "apps", "batch", "example.com", "rbac.authorization.k8s.io"}
	parityResources  = []string{"pods", "pods/log", "pods/exec", "pods/status", "deployments", "deployments/scale", "*/scale", "*/status", "secrets", "configmaps", "jobs", "widgets", "widgets/status", "pods/*", "services", "roles", "clusterroles"}
	parityPlain      = []string{"pods", "deployments", "secrets", "configmaps", "jobs", "widgets", "services", "roles", "clusterroles", "nodes"}
	paritySubs       = []string{"log", "exec", "status", "scale", "proxy"}
	parityNames      = []string{"web", "db", "cache"}
	parityURLs       = []string{"/healthz", "/healthz/*", "/metrics", "/api/*", "/apis*", "/logs/*", "*", "/version", "/readyz", "/openapi/v2"}
	parityPaths      = []string{"/healthz", "/healthz/ready", "/healthz/", "/metrics", "/api", "/api/", "/api/v1", "/apis", "/apis/apps", "/logs", "/logs/", "/logs/kube", "/version", "/readyz", "/openapi/v2", "/openapi", "/x", "/"}
	parityUsers      = []string{"alice", "bob", "carol", "dave", "system:serviceaccount:ns-a:sa1", "system:serviceaccount:ns-b:sa2", "system:serviceaccount:ns-a:default", "system:serviceaccount:ns-c:sa1", "system:anonymous", "system:kube-scheduler"}
	paritySubjGroups = []string{"dev", "ops", "qa", "system:authenticated", "system:unauthenticated", "system:serviceaccounts", "system:serviceaccounts:ns-a", "system:masters"}
	paritySAs        = []string{"sa1", "sa2", "default"}
	parityBootstrap  = []string{"view", "edit", "admin", "cluster-admin", "system:discovery", "system:basic-user"}
	// The bindings' subjects: the first eight users and seven groups; the questions ask of all.
	parityPools = fixtures.RBACPools{
		Verbs: parityVerbs, URLVerbs: parityURLVerbs, APIGroups: parityGroups, Resources: parityResources,
		ResourceNames: parityNames, NonResourceURLs: parityURLs,
		Users: parityUsers[:8:8], Groups: paritySubjGroups[:7:7], ServiceAccounts: paritySAs, Namespaces: []string{"ns-a", "ns-b", "ns-c"},
	}
)

// labels for a plain ClusterRole: maybe a tier, maybe some up-i, maybe a bootstrap aggregation label.
func (g *parityGen) labels(above int) map[string]string {
	l := map[string]string{}
	if g.Rand.IntN(2) == 0 {
		l["parity.test/tier"] = g.Pick([]string{"view", "edit", "ops"})
	}
	for i := above; i < g.aggregated; i++ {
		if g.Rand.IntN(4) == 0 {
			l[fmt.Sprintf("parity.test/up-%d", i)] = "true"
		}
	}
	if g.Rand.IntN(12) == 0 {
		l["rbac.authorization.k8s.io/aggregate-to-"+g.Pick([]string{"view", "edit", "admin"})] = "true"
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

func (g *parityGen) selector(i int) metav1.LabelSelector {
	switch g.Rand.IntN(4) {
	case 0:
		return metav1.LabelSelector{MatchLabels: map[string]string{"parity.test/tier": g.Pick([]string{"view", "edit", "ops"})}}
	case 1:
		return metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "parity.test/tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"view", "edit"}}}}
	default:
		return metav1.LabelSelector{MatchLabels: map[string]string{fmt.Sprintf("parity.test/up-%d", i): "true"}}
	}
}

func (g *parityGen) objects() *parityObjects {
	o := &parityObjects{}
	// Aggregating ClusterRoles; agg-i carries up-j labels of higher aggregators only.
	for i := range g.aggregated {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("agg-%d", i), Labels: map[string]string{}}}
		for j := i + 1; j < g.aggregated; j++ {
			if g.Rand.IntN(3) == 0 {
				cr.Labels[fmt.Sprintf("parity.test/up-%d", j)] = "true"
			}
		}
		cr.AggregationRule = &rbacv1.AggregationRule{}
		for range 1 + g.Rand.IntN(2) {
			cr.AggregationRule.ClusterRoleSelectors = append(cr.AggregationRule.ClusterRoleSelectors, g.selector(i))
		}
		if g.Rand.IntN(3) == 0 {
			cr.Rules = g.Rules(false) // written rules, which aggregation replaces
		}
		o.clusterRoles = append(o.clusterRoles, cr)
	}
	// An aggregating role that selects nothing, with rules of its own.
	o.clusterRoles = append(o.clusterRoles, &rbacv1.ClusterRole{
		ObjectMeta:      metav1.ObjectMeta{Name: "agg-none"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"parity.test/nothing": "true"}}}},
		Rules:           []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}},
	})
	for i := range 34 {
		o.clusterRoles = append(o.clusterRoles, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i), Labels: g.labels(0)},
			Rules:      g.Rules(false),
		})
	}
	for _, ns := range g.Namespaces {
		for i := range 6 {
			o.roles = append(o.roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role-%d", i)}, Rules: g.Rules(true)})
		}
	}
	clusterRef := func() rbacv1.RoleRef {
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole"}
		switch n := g.Rand.IntN(20); {
		case n == 0:
			ref.Name = "missing"
		case n < 4:
			ref.Name = g.Pick(parityBootstrap)
		default:
			ref.Name = o.clusterRoles[g.Rand.IntN(len(o.clusterRoles))].Name
		}
		return ref
	}
	for i := range 22 {
		o.clusterRoleBindings = append(o.clusterRoleBindings, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
			RoleRef:    clusterRef(),
			Subjects:   g.Subjects(""),
		})
	}
	for _, ns := range g.Namespaces {
		for i := range 16 {
			ref := clusterRef()
			if n := g.Rand.IntN(10); n < 6 {
				ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("role-%d", g.Rand.IntN(7))} // role-6 is missing
			}
			o.roleBindings = append(o.roleBindings, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%d", i)},
				RoleRef:    ref,
				Subjects:   g.Subjects(ns),
			})
		}
	}
	g.objs = o
	return o
}

// --- questions ---

type parityQuestion struct {
	user                                  string
	groups                                []string
	resource                              bool
	verb, group, res, sub, name, ns, path string
}

func (q parityQuestion) String() string {
	who := fmt.Sprintf("user %q groups %q", q.user, q.groups)
	if !q.resource {
		return fmt.Sprintf("%s: %s %s", who, q.verb, q.path)
	}
	return fmt.Sprintf("%s: %s group=%q resource=%q subresource=%q name=%q namespace=%q", who, q.verb, q.group, q.res, q.sub, q.name, q.ns)
}

func (q parityQuestion) attributes() authorizer.AttributesRecord {
	a := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: q.user, Groups: q.groups}, Verb: q.verb}
	if !q.resource {
		a.Path = q.path
		return a
	}
	a.ResourceRequest = true
	a.APIGroup, a.Resource, a.Subresource, a.Name, a.Namespace = q.group, q.res, q.sub, q.name, q.ns
	return a
}

func (q parityQuestion) review() *authorizationv1.SubjectAccessReview {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: q.user, Groups: q.groups}}
	if q.resource {
		sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: q.ns, Verb: q.verb, Group: q.group,
			Resource: q.res, Subresource: q.sub, Name: q.name}
	} else {
		sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: q.path, Verb: q.verb}
	}
	return sar
}

// groupsFor gives a user groups in one of several ways: as impersonation would (with or without
// --as-group), a raw set as an authenticator might send, none, or with system:masters.
func (g *parityGen) groupsFor(name string, need string) []string {
	var groups []string
	switch g.Rand.IntN(6) {
	case 0, 1:
		u, _ := rbacsim.Impersonate(name, nil)
		groups = u.GetGroups()
	case 2:
		u, _ := rbacsim.Impersonate(name, g.Some(paritySubjGroups[:7], 2, 0))
		groups = u.GetGroups()
	case 3:
		if g.Rand.IntN(2) == 0 {
			groups = g.Some(paritySubjGroups[:7], 3, 0)
		}
	case 4:
		groups = g.Some(paritySubjGroups[:3], 2, 0)
	case 5:
		if g.Rand.IntN(4) == 0 {
			groups = []string{"dev", "system:masters"}
		}
	}
	if need != "" && !slices.Contains(groups, need) {
		groups = append(groups, need)
	}
	return groups
}

// questions returns n questions: half drawn at random, half aimed at a rule of a generated binding
// (and then, half of those, knocked off by one field), so that both answers are common.
func (g *parityGen) questions(n int) []parityQuestion {
	out := make([]parityQuestion, 0, n)
	for len(out) < n {
		var q parityQuestion
		if g.Rand.IntN(2) == 0 {
			q = g.randomQuestion()
		} else {
			q = g.aimedQuestion()
			if g.Rand.IntN(2) == 0 {
				g.perturb(&q)
			}
		}
		out = append(out, q)
	}
	return out
}

func (g *parityGen) randomQuestion() parityQuestion {
	q := parityQuestion{user: g.Pick(parityUsers)}
	q.groups = g.groupsFor(q.user, "")
	if g.Rand.IntN(5) == 0 {
		q.verb, q.path = g.Pick(append(parityURLVerbs, "*")), g.Pick(parityPaths)
		return q
	}
	q.resource = true
	q.verb = g.Pick(append(parityVerbs, "*"))
	q.group = g.Pick(append(parityGroups, "*"))
	q.res = g.Pick(append(parityPlain, "*"))
	if g.Rand.IntN(3) == 0 {
		q.sub = g.Pick(paritySubs)
	}
	if g.Rand.IntN(2) == 0 {
		q.name = g.Pick(append(parityNames, "other"))
	}
	q.ns = g.Pick(append(g.Namespaces, "", "ns-d"))
	return q
}

// aimedQuestion asks for what a rule of a generated binding seems to grant, as one of its subjects.
func (g *parityGen) aimedQuestion() parityQuestion {
	o := g.objs
	var subjects []rbacv1.Subject
	var ref rbacv1.RoleRef
	ns := ""
	if k := g.Rand.IntN(len(o.clusterRoleBindings) + len(o.roleBindings)); k < len(o.clusterRoleBindings) {
		subjects, ref = o.clusterRoleBindings[k].Subjects, o.clusterRoleBindings[k].RoleRef
		ns = g.Pick(append(g.Namespaces, ""))
	} else {
		b := o.roleBindings[k-len(o.clusterRoleBindings)]
		subjects, ref, ns = b.Subjects, b.RoleRef, b.Namespace
	}
	var rules []rbacv1.PolicyRule
	switch {
	case ref.Kind == "Role":
		for _, r := range o.roles {
			if r.Namespace == ns && r.Name == ref.Name {
				rules = r.Rules
			}
		}
	default:
		for _, r := range o.clusterRoles {
			if r.Name == ref.Name {
				rules = r.Rules
			}
		}
	}
	if len(rules) == 0 {
		// An aggregated or bootstrap role: any rule of a plain ClusterRole will do.
		rules = o.clusterRoles[g.aggregated+1+g.Rand.IntN(len(o.clusterRoles)-g.aggregated-1)].Rules
	}
	rule := rules[g.Rand.IntN(len(rules))]

	var q parityQuestion
	s := subjects[g.Rand.IntN(len(subjects))]
	switch s.Kind {
	case rbacv1.UserKind:
		q.user = s.Name
		q.groups = g.groupsFor(q.user, "")
	case rbacv1.GroupKind:
		q.user = g.Pick(parityUsers)
		q.groups = g.groupsFor(q.user, s.Name)
	default:
		sns := s.Namespace
		if sns == "" {
			sns = ns
		}
		q.user = "system:serviceaccount:" + sns + ":" + s.Name
		q.groups = g.groupsFor(q.user, "")
	}
	concrete := func(v string, pool []string) string {
		if v == "*" {
			return g.Pick(pool)
		}
		return v
	}
	q.verb = concrete(g.Pick(rule.Verbs), parityVerbs)
	if len(rule.NonResourceURLs) > 0 {
		q.verb = concrete(g.Pick(rule.Verbs), parityURLVerbs)
		u := g.Pick(rule.NonResourceURLs)
		switch {
		case u == "*":
			q.path = g.Pick(parityPaths)
		case strings.HasSuffix(u, "*"):
			q.path = strings.TrimSuffix(u, "*") + g.Pick([]string{"", "x", "a/b"})
		default:
			q.path = u
		}
		return q
	}
	q.resource = true
	q.ns = ns
	q.group = concrete(g.Pick(rule.APIGroups), parityGroups)
	res := g.Pick(rule.Resources)
	switch {
	case res == "*":
		q.res = g.Pick(parityPlain)
		if g.Rand.IntN(3) == 0 {
			q.sub = g.Pick(paritySubs)
		}
	case strings.HasPrefix(res, "*/"):
		q.res, q.sub = g.Pick(parityPlain), res[2:]
	case strings.Contains(res, "/"):
		q.res, q.sub, _ = strings.Cut(res, "/")
		if q.sub == "*" && g.Rand.IntN(2) == 0 {
			q.sub = g.Pick(paritySubs)
		}
	default:
		q.res = res
	}
	if len(rule.ResourceNames) > 0 {
		q.name = g.Pick(rule.ResourceNames)
	} else if g.Rand.IntN(2) == 0 {
		q.name = g.Pick(parityNames)
	}
	return q
}

// perturb changes one field of a question.
func (g *parityGen) perturb(q *parityQuestion) {
	if !q.resource {
		switch g.Rand.IntN(3) {
		case 0:
			q.verb = g.Pick(parityURLVerbs)
		case 1:
			q.path = g.Pick(parityPaths)
		default:
			q.path += "/more"
		}
		return
	}
	switch g.Rand.IntN(8) {
	case 0:
		q.verb = g.Pick(parityVerbs)
	case 1:
		q.group = g.Pick(parityGroups)
	case 2:
		q.res = g.Pick(parityPlain)
	case 3:
		q.sub = g.Pick(append(paritySubs, ""))
	case 4:
		q.name = g.Pick(append(parityNames, "", "other"))
	case 5:
		q.ns = g.Pick(append(g.Namespaces, "", "ns-d"))
	case 6:
		q.groups = g.groupsFor(q.user, "")
	default:
		q.user = g.Pick(parityUsers)
	}
}

// --- asking ---

// askAll asks the API server every question with a SubjectAccessReview, on a few connections.
func askAll(t *testing.T, cs kubernetes.Interface, questions []parityQuestion) []authorizationv1.SubjectAccessReviewStatus {
	t.Helper()
	answers := make([]authorizationv1.SubjectAccessReviewStatus, len(questions))
	errs := make([]error, len(questions))
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(questions); i += workers {
				res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), questions[i].review(), metav1.CreateOptions{})
				if err != nil {
					errs[i] = err
					continue
				}
				answers[i] = res.Status
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("question %d (%s): %v", i, questions[i], err)
		}
	}
	return answers
}

// waitAggregated waits until the aggregation controller has given every aggregating ClusterRole
// the rules rbacsim gives it (as sets), or reports the roles that differ after a while.
func waitAggregated(t *testing.T, cs kubernetes.Interface, model *rbacsim.Model) {
	t.Helper()
	var diffs []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		diffs = diffs[:0]
		for _, cr := range list.Items {
			if cr.AggregationRule == nil {
				continue
			}
			sim := model.ClusterRole(cr.Name)
			if sim == nil {
				diffs = append(diffs, "ClusterRole "+cr.Name+" is not in rbacsim's model")
				continue
			}
			if got, want := ruleSet(sim.Rules), ruleSet(cr.Rules); !slices.Equal(got, want) {
				diffs = append(diffs, fmt.Sprintf("ClusterRole %s: kube-controller-manager's rules\n  %s\nrbacsim's\n  %s",
					cr.Name, strings.Join(want, "\n  "), strings.Join(got, "\n  ")))
			}
		}
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("aggregated ClusterRoles differ:\n%s", strings.Join(diffs, "\n"))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ruleSet is a sorted, duplicate-free rendering of rules, for comparing them as sets.
func ruleSet(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		s := fmt.Sprintf("verbs=%q groups=%q resources=%q names=%q urls=%q", r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// waitAuthorizerSynced writes a Role, a ClusterRole and a binding of each after everything else, and
// waits until the API server's authorizer grants what they grant: its caches of all four kinds
// have then seen every earlier write.
func waitAuthorizerSynced(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	waitAuthorizerSyncedAs(t, cs, "parity-sentinel")
}

// waitAuthorizerSyncedAs is waitAuthorizerSynced with sentinel objects and user of another name, for
// a test that syncs more than once.
func waitAuthorizerSyncedAs(t *testing.T, cs kubernetes.Interface, who string) {
	t.Helper()
	ctx := t.Context()
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: who}}
	rule := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{"sentinel.test"}, Resources: []string{"sentinels"}}}
	rbac := cs.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: who}, Rules: rule}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: who}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: who}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.Roles("ns-a").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: who}, Rules: rule}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings("ns-a").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: who}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: who}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Both grant the same thing, so ask through each: cluster-wide (ClusterRoleBinding) and, with a
	// verb only the Role has, in ns-a.
	if _, err := rbac.Roles("ns-a").Update(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: who, Namespace: "ns-a"},
		Rules: append(rule, rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{"sentinel.test"}, Resources: []string{"sentinels"}})}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ask := func(verb, ns string) bool {
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: who, ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: "sentinel.test", Resource: "sentinels", Namespace: ns}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Status.Allowed
	}
	ctxWait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for !(ask("get", "") && ask("list", "ns-a")) {
		select {
		case <-ctxWait.Done():
			t.Fatal("the API server's authorizer did not see the sentinel RBAC objects in 30s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
