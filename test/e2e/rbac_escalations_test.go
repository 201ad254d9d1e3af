package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/verdict-dev/verdict/rbacsim"
)

// escalationFixture grants the hops that random objects seldom reach: a binder that may create
// RoleBindings in ns-a and bind two ClusterRoles, one it holds and one it does not; a role writer
// with escalate; an impersonator of one service account.
var escalationFixture = &parityObjects{
	clusterRoles: []*rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "e2e-binder"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings"}, Verbs: []string{"create"}},
			{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{"e2e-powerful", "e2e-weak"}},
			{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles"}, Verbs: []string{"update", "escalate"}},
			{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}, ResourceNames: []string{"sa1"}},
			{APIGroups: []string{""}, Resources: []string{"pods", "serviceaccounts/token"}, Verbs: []string{"create"}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "e2e-powerful"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "e2e-weak"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}}}},
	},
	roleBindings: []*rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-a", Name: "e2e-binder"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "e2e-binder"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-binder"}}}},
}

// TestRBACEscalationHops checks every hop that rbacsim's Escalations reports for the subjects of random
// RBAC objects against a real kube-apiserver: its request is allowed to the subject
// (SubjectAccessReview), and a bind hop's binding is accepted from the subject, impersonated, by a
// server-side dry-run create, past the API server's escalation check.
func TestRBACEscalationHops(t *testing.T) {
	w := startRBACWorld(t, *paritySeed+1)
	env, cs, objs := w.env, w.cs, w.objs
	createRBAC(t, cs, escalationFixture)
	parsed, err := rbacsim.Parse("objects.yaml", append(objs.yaml(t), escalationFixture.yaml(t)...))
	if err != nil {
		t.Fatal(err)
	}
	all := &rbacsim.Objects{Sources: map[any]rbacsim.Source{}}
	all.Append(w.bootstrap)
	all.Append(parsed)
	model := rbacsim.NewModel(all)
	w.synced(t, model)

	workloads := &rbacsim.Workloads{Pods: []rbacsim.PodRef{{Namespace: "ns-a", Name: "web", Node: "node-1", ServiceAccount: "sa2"}},
		TokenSecrets: []rbacsim.TokenSecret{{Namespace: "ns-b", Name: "sa1-token", ServiceAccount: "sa1"}}}
	var hops []rbacsim.Hop
	for _, s := range rbacsim.NewModel(parsed).EscalationSubjects() {
		hops = append(hops, model.Escalations(s, s.User(), workloads, 1)...)
	}
	binds := 0
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(hops); i += 8 {
				h := &hops[i]
				if msg := checkHop(t, env.Config, cs, h); msg != "" {
					mu.Lock()
					failures = append(failures, h.String()+": "+msg)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i := range hops {
		if hops[i].Binding != nil {
			binds++
		}
	}
	t.Logf("%d hops checked against kube-apiserver (%d bindings created by dry run); %d refused", len(hops), binds, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d hops refused by kube-apiserver (first %d):\n%s", len(failures), min(len(failures), 20), strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
	if binds == 0 || len(hops) < 10 {
		t.Errorf("only %d hops (%d bindings): the objects do not discriminate", len(hops), binds)
	}
}

// hopUser is the user a hop's subject is for the API server: a group's member gets a name no binding uses.
func hopUser(h *rbacsim.Hop) (string, []string) {
	u := h.Subject.User()
	name := u.GetName()
	if name == "" {
		name = "e2e-member-of-" + h.Subject.Name
	}
	return name, u.GetGroups()
}

func checkHop(t *testing.T, cfg *rest.Config, cs kubernetes.Interface, h *rbacsim.Hop) string {
	name, groups := hopUser(h)
	a := h.Attributes
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: name, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.APIGroup,
			Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}}}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
	if err != nil {
		return err.Error()
	}
	if !res.Status.Allowed {
		return fmt.Sprintf("SubjectAccessReview %+v denied: %s", *sar.Spec.ResourceAttributes, res.Status.Reason)
	}
	if h.Binding == nil {
		return ""
	}
	// The binding, created as the subject: impersonation adds system:authenticated, which can only allow more.
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: groups}
	as, err := kubernetes.NewForConfig(c)
	if err != nil {
		return err.Error()
	}
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "e2e-anyone"}}
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	meta := metav1.ObjectMeta{Name: "e2e-hop", Namespace: a.Namespace}
	if a.Namespace == "" {
		_, err = as.RbacV1().ClusterRoleBindings().Create(t.Context(), &rbacv1.ClusterRoleBinding{ObjectMeta: meta, RoleRef: *h.Binding, Subjects: subjects}, dry)
	} else {
		_, err = as.RbacV1().RoleBindings(a.Namespace).Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: *h.Binding, Subjects: subjects}, dry)
	}
	if err != nil {
		return "dry-run create of the binding: " + err.Error()
	}
	return ""
}
