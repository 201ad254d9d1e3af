package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	kubectlauth "k8s.io/kubectl/pkg/cmd/auth"

	"github.com/verdict-dev/verdict/rbacsim"
	"github.com/verdict-dev/verdict/test/e2e/controlplane"
)

var (
	listSeeds  = flag.String("rbac-list-seeds", "11,12,13", "comma-separated seeds of the worlds of the can-i --list parity test")
	listTables = flag.Int("rbac-list-tables", 36, "questions (--as, --as-group, -n) the can-i --list parity test asks per world")
)

// TestRBACListParity compares `verdict rbac can-i --list` with `kubectl auth can-i --list` against a
// real kube-apiserver, table by table, byte for byte. For each seed it loads a random world of RBAC
// objects (the parity test's generator) into the API server next to its bootstrap policy, lets the
// aggregation controller aggregate it, and for many (user, --as-group, namespace) asks kubectl
// v0.37.2's own CanIOptions.RunAccessList, with an impersonating client as `kubectl --as U
// --as-group G -n NS` has, and verdict, given the same objects as manifests and --with-defaults.
//
// The installed kubectl binary is not the oracle: kubectl's code is, at the version of the API
// server. kube-apiserver lists bindings from an informer, in Go map order, so where two bindings give
// verbs of one resource kubectl's merged verbs (and so the row order) change from one request to the
// next. A table that differs is therefore checked again in the binding order the API server used:
// its answer must be verdict's rules, binding by binding, in some order of the bindings, and kubectl
// printing verdict's rules in that order must print kubectl's table. Only a table that fails that is
// a difference.
func TestRBACListParity(t *testing.T) {
	start := time.Now()
	built := make(chan string, 1)
	buildErr := make(chan error, 1)
	binDir := t.TempDir()
	go func() {
		bin := filepath.Join(binDir, "verdict")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/verdict-dev/verdict/cmd/verdict").CombinedOutput()
		if err != nil {
			buildErr <- fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built <- bin
	}()

	env := controlplane.Start(t)
	ctx := t.Context()
	cs := fastClient(t, env.Config)
	waitBootstrapPolicy(t, cs)
	env.StartAggregation(t)
	defaults, err := rbacsim.DefaultObjects()
	if err != nil {
		t.Fatal(err)
	}
	g0 := newParityGen(0)
	createNamespaces(t, cs, g0.Namespaces)
	var verdict string
	select {
	case verdict = <-built:
	case err := <-buildErr:
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	setup := time.Since(start)

	var seeds []uint64
	for _, s := range strings.Split(*listSeeds, ",") {
		seed, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatalf("-rbac-list-seeds: %v", err)
		}
		seeds = append(seeds, seed)
	}
	var total, exact, byOrder, viaBinary, withRows, refused, unstable int
	var diffs []string
	var previous *parityObjects
	for round, seed := range seeds {
		if previous != nil {
			deleteRBAC(t, cs, previous)
		}
		g := newParityGen(seed)
		objs := g.objects()
		previous = objs
		createRBAC(t, cs, objs)
		manifests := objs.yaml(t)
		world := filepath.Join(t.TempDir(), fmt.Sprintf("world-%d.yaml", seed))
		if err := os.WriteFile(world, manifests, 0o644); err != nil {
			t.Fatal(err)
		}
		parsed, err := rbacsim.Parse(world, manifests)
		if err != nil {
			t.Fatal(err)
		}
		all := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
		all.Append(defaults)
		all.Append(parsed)
		model := rbacsim.NewModel(all)
		waitAggregatedInOrder(t, cs, model)
		waitAuthorizerSyncedAs(t, cs, fmt.Sprintf("list-sentinel-%d", round))

		for i, q := range g.listQuestions(*listTables) {
			total++
			want, review := kubectlAccessList(t, env.Config, q)
			u, err := rbacsim.Impersonate(q.user, q.groups)
			if err != nil {
				t.Fatal(err)
			}
			allowed, err := model.RulesReviewAllowed(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if review == nil || !allowed {
				// kubectl was refused the review: verdict must know it would be.
				if review != nil || allowed {
					diffs = append(diffs, fmt.Sprintf("seed %d, %s: kubectl refused %v, verdict says refused %v", seed, q, review == nil, !allowed))
				} else {
					refused++
				}
				continue
			}
			got := verdictAccessList(t, model, u, q.ns)
			if i%6 == 0 {
				// The command itself, on a sixth of the tables: same bytes as the library.
				viaBinary++
				if cmd := runVerdictList(t, verdict, world, q); cmd != got {
					t.Errorf("seed %d, %s: the verdict command printed\n%s\nthe library\n%s", seed, q, cmd, got)
				}
			}
			if strings.Count(want, "\n") > 1 {
				withRows++
			}
			if again, _ := kubectlAccessList(t, env.Config, q); again != want {
				unstable++
			}
			if got == want {
				exact++
				continue
			}
			if reordered, ok := inServerOrder(t, model, u, q.ns, review.Status); ok && reordered == want {
				byOrder++
				continue
			}
			diffs = append(diffs, fmt.Sprintf("seed %d, %s:\n--- kubectl\n%s--- verdict\n%s", seed, q, want, got))
		}
	}
	tables := total - refused
	t.Logf("seeds %v: %d questions, %d refused the rules review by both; %d tables compared (%d also through the verdict command): %d byte for byte, %d the same in the API server's binding order, %d differ; "+
		"kubectl asked twice printed two tables for %d; setup %s, total %s",
		seeds, total, refused, tables, viaBinary, exact, byOrder, len(diffs), unstable, setup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if withRows < tables/2 {
		t.Errorf("only %d of %d tables have rows: the questions do not discriminate", withRows, tables)
	}
	if len(diffs) > 0 {
		t.Errorf("%d of %d tables differ (first %d):\n%s", len(diffs), total, min(len(diffs), 5), strings.Join(diffs[:min(len(diffs), 5)], "\n"))
	}
}

// listQuestion is one can-i --list: --as user, --as-group groups, -n ns.
type listQuestion struct {
	user   string
	groups []string
	ns     string
}

func (q listQuestion) String() string {
	return fmt.Sprintf("--as %q --as-group %q -n %s", q.user, q.groups, q.ns)
}

func (q listQuestion) args() []string {
	args := []string{"--as", q.user}
	for _, g := range q.groups {
		args = append(args, "--as-group", g)
	}
	return append(args, "-n", q.ns)
}

// listQuestions draws users and groups from the generator's pools, as kubectl --as and --as-group
// take them (the API server's impersonation adds the rest), in namespaces with and without bindings.
func (g *parityGen) listQuestions(n int) []listQuestion {
	out := make([]listQuestion, 0, n)
	for range n {
		q := listQuestion{user: g.Pick(parityUsers), ns: g.Pick(append(g.Namespaces, g.Namespaces[0], "ns-d", "default"))}
		switch g.Rand.IntN(6) {
		case 0, 1, 2:
		case 3, 4:
			q.groups = g.Some(paritySubjGroups[:7], 2, 0)
		case 5:
			q.groups = []string{g.Pick(paritySubjGroups[:3]), "system:masters"}
		}
		out = append(out, q)
	}
	return out
}

// kubectlAccessList runs kubectl's RunAccessList against the API server as `kubectl auth can-i
// --list --as U --as-group G -n NS` does, and returns what it printed and the review it printed.
func kubectlAccessList(t *testing.T, cfg *rest.Config, q listQuestion) (string, *authorizationv1.SelfSubjectRulesReview) {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 10000, 10000
	c.Impersonate = rest.ImpersonationConfig{UserName: q.user, Groups: q.groups}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingAuthClient{AuthorizationV1Interface: cs.AuthorizationV1()}
	var out, errOut bytes.Buffer
	o := &kubectlauth.CanIOptions{
		List:           true,
		Namespace:      q.ns,
		AuthClient:     rec,
		IOStreams:      genericiooptions.IOStreams{Out: &out, ErrOut: &errOut},
		WarningPrinter: printers.NewWarningPrinter(&errOut, printers.WarningPrinterOptions{}),
	}
	if err := o.RunAccessList(); apierrors.IsForbidden(err) {
		return "", nil
	} else if err != nil {
		t.Fatalf("%s: kubectl: %v", q, err)
	}
	if errOut.Len() > 0 {
		t.Errorf("%s: kubectl warned: %s", q, errOut.String())
	}
	if rec.review == nil {
		t.Fatalf("%s: kubectl asked no rules review", q)
	}
	return out.String(), rec.review
}

// recordingAuthClient keeps the SelfSubjectRulesReview answer that kubectl printed.
type recordingAuthClient struct {
	authorizationv1client.AuthorizationV1Interface
	review *authorizationv1.SelfSubjectRulesReview
}

func (c *recordingAuthClient) SelfSubjectRulesReviews() authorizationv1client.SelfSubjectRulesReviewInterface {
	return c
}

func (c *recordingAuthClient) Create(ctx context.Context, r *authorizationv1.SelfSubjectRulesReview, opts metav1.CreateOptions) (*authorizationv1.SelfSubjectRulesReview, error) {
	res, err := c.AuthorizationV1Interface.SelfSubjectRulesReviews().Create(ctx, r, opts)
	c.review = res
	return res, err
}

// verdictAccessList is what `verdict rbac can-i --list` prints: the model's rules review, printed.
func verdictAccessList(t *testing.T, model *rbacsim.Model, u user.Info, ns string) string {
	t.Helper()
	review, err := model.RulesReview(t.Context(), u, ns)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := rbacsim.WriteAccessList(&out, &errOut, review.Status, false); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func runVerdictList(t *testing.T, verdict, world string, q listQuestion) string {
	t.Helper()
	args := append([]string{"rbac", "can-i", "--list", "--with-defaults", "-f", world}, q.args()...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), verdict, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("verdict %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// block is the rules that one binding gives, as the rule resolver visits them.
type block struct {
	source      string
	cluster     bool // a ClusterRoleBinding's: the resolver visits those before RoleBindings
	resource    []authorizationv1.ResourceRule
	nonResource []authorizationv1.NonResourceRule
}

// inServerOrder finds an order of the bindings (ClusterRoleBindings first, as the resolver visits
// them) in which verdict's rules, binding by binding, are exactly the API server's answer, and
// prints verdict's rules in that order with kubectl's code. It fails when there is no such order:
// then the rules themselves differ.
func inServerOrder(t *testing.T, model *rbacsim.Model, u user.Info, ns string, server authorizationv1.SubjectRulesReviewStatus) (string, bool) {
	t.Helper()
	var blocks []*block
	var last string
	model.RuleResolver().VisitRulesFor(t.Context(), u, ns, func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule == nil {
			return true
		}
		if s := source.String(); s != last || len(blocks) == 0 {
			blocks = append(blocks, &block{source: s, cluster: strings.HasPrefix(s, "ClusterRoleBinding ")})
			last = s
		}
		b := blocks[len(blocks)-1]
		if len(rule.Resources) > 0 {
			b.resource = append(b.resource, authorizationv1.ResourceRule{Verbs: rule.Verbs, APIGroups: rule.APIGroups, Resources: rule.Resources, ResourceNames: rule.ResourceNames})
		}
		if len(rule.NonResourceURLs) > 0 {
			b.nonResource = append(b.nonResource, authorizationv1.NonResourceRule{Verbs: rule.Verbs, NonResourceURLs: rule.NonResourceURLs})
		}
		return true
	})
	used := make([]bool, len(blocks))
	var order []int
	var search func(ri, ni int) bool
	search = func(ri, ni int) bool {
		if len(order) == len(blocks) {
			return ri == len(server.ResourceRules) && ni == len(server.NonResourceRules)
		}
		crbsLeft := false
		for i, b := range blocks {
			crbsLeft = crbsLeft || (!used[i] && b.cluster)
		}
		for i, b := range blocks {
			if used[i] || (crbsLeft && !b.cluster) || !prefixOf(b.resource, server.ResourceRules[ri:]) || !prefixOf(b.nonResource, server.NonResourceRules[ni:]) {
				continue
			}
			used[i] = true
			order = append(order, i)
			if search(ri+len(b.resource), ni+len(b.nonResource)) {
				return true
			}
			used[i] = false
			order = order[:len(order)-1]
		}
		return false
	}
	if !search(0, 0) {
		return "", false
	}
	var status authorizationv1.SubjectRulesReviewStatus
	for _, i := range order {
		status.ResourceRules = append(status.ResourceRules, blocks[i].resource...)
		status.NonResourceRules = append(status.NonResourceRules, blocks[i].nonResource...)
	}
	var out, errOut bytes.Buffer
	if err := rbacsim.WriteAccessList(&out, &errOut, status, false); err != nil {
		t.Fatal(err)
	}
	return out.String(), true
}

// prefixOf says whether rules begin list, nil and empty lists being the same.
func prefixOf[R authorizationv1.ResourceRule | authorizationv1.NonResourceRule](rules, list []R) bool {
	if len(rules) > len(list) {
		return false
	}
	for i := range rules {
		if !sameRule(rules[i], list[i]) {
			return false
		}
	}
	return true
}

func sameRule[R authorizationv1.ResourceRule | authorizationv1.NonResourceRule](a, b R) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !slices.Equal(va.Field(i).Interface().([]string), vb.Field(i).Interface().([]string)) {
			return false
		}
	}
	return true
}

// deleteRBAC deletes a world's objects, for the next world.
func deleteRBAC(t *testing.T, cs kubernetes.Interface, o *parityObjects) {
	t.Helper()
	ctx := t.Context()
	rbac := cs.RbacV1()
	for _, r := range o.clusterRoles {
		if err := rbac.ClusterRoles().Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting ClusterRole %s: %v", r.Name, err)
		}
	}
	for _, r := range o.roles {
		if err := rbac.Roles(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting Role %s/%s: %v", r.Namespace, r.Name, err)
		}
	}
	for _, b := range o.clusterRoleBindings {
		if err := rbac.ClusterRoleBindings().Delete(ctx, b.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting ClusterRoleBinding %s: %v", b.Name, err)
		}
	}
	for _, b := range o.roleBindings {
		if err := rbac.RoleBindings(b.Namespace).Delete(ctx, b.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting RoleBinding %s/%s: %v", b.Namespace, b.Name, err)
		}
	}
	// The aggregation controller applies the rules of an aggregating ClusterRole, and an apply of
	// one it had queued before seeing the deletion creates it again: delete those until none comes back.
	quiet := 0
	for deadline := time.Now().Add(20 * time.Second); quiet < 3; {
		if time.Now().After(deadline) {
			t.Fatal("aggregated ClusterRoles of the previous world keep coming back")
		}
		time.Sleep(200 * time.Millisecond)
		quiet++
		for _, r := range o.clusterRoles {
			err := rbac.ClusterRoles().Delete(ctx, r.Name, metav1.DeleteOptions{})
			if err == nil {
				quiet = 0
			} else if !apierrors.IsNotFound(err) {
				t.Fatalf("deleting ClusterRole %s: %v", r.Name, err)
			}
		}
	}
}

// waitAggregatedInOrder is waitAggregated with the rules' order too: kubectl's table depends on it.
func waitAggregatedInOrder(t *testing.T, cs kubernetes.Interface, model *rbacsim.Model) {
	t.Helper()
	waitAggregated(t, cs, model)
	render := func(rules []rbacv1.PolicyRule) string {
		var b strings.Builder
		for _, r := range rules {
			fmt.Fprintf(&b, "\n  verbs=%q groups=%q resources=%q names=%q urls=%q", r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs)
		}
		return b.String()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var diffs []string
		for _, cr := range list.Items {
			if cr.AggregationRule == nil {
				continue
			}
			if sim := model.ClusterRole(cr.Name); sim != nil {
				if got, want := render(sim.Rules), render(cr.Rules); got != want {
					diffs = append(diffs, fmt.Sprintf("ClusterRole %s: kube-controller-manager's rules%s\nrbacsim's%s", cr.Name, want, got))
				}
			}
		}
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("aggregated ClusterRoles' rules are in another order:\n%s", strings.Join(diffs, "\n"))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
