package rbacsim

import (
	"context"
	"testing"

	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// TestEscalationsAllowed checks on random worlds that every hop is a request that Authorize allows
// its subject, and that a binding hop binds a role whose rules the subject does not hold, in a
// namespace where it may create the binding.
func TestEscalationsAllowed(t *testing.T) {
	w := &Workloads{
		Pods:         []PodRef{{Namespace: "ns-a", Name: "web", Node: "node-1", ServiceAccount: "sa2"}},
		TokenSecrets: []TokenSecret{{Namespace: "ns-b", Name: "sa1-token", ServiceAccount: "sa1"}},
	}
	total := 0
	for seed := range uint64(40) {
		g := newDiffWorld(seed, 11)
		m := NewModel(g.objects())
		for _, s := range m.EscalationSubjects() {
			u := s.User()
			for _, h := range m.Escalations(s, u, w, 2) {
				total++
				hu := h.Subject.User()
				a := h.Attributes
				a.User = hu
				if d, _, _ := m.Authorize(context.Background(), a); d != authorizer.DecisionAllow {
					t.Errorf("seed %d: hop %s: its request %+v is not allowed", seed, h.String(), a)
				}
				if h.Binding == nil {
					continue
				}
				resource := "clusterrolebindings"
				if a.Namespace != "" {
					resource = "rolebindings"
				}
				create := authorizer.AttributesRecord{User: hu, Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: resource, Namespace: a.Namespace, ResourceRequest: true}
				if d, _, _ := m.Authorize(context.Background(), create); d != authorizer.DecisionAllow {
					t.Errorf("seed %d: hop %s: the subject may not create the binding", seed, h.String())
				}
				role := m.ClusterRole(h.Binding.Name)
				if h.Binding.Kind == "Role" {
					role = m.roles[a.Namespace+"/"+h.Binding.Name]
				}
				held, _ := m.RulesFor(hu, a.Namespace)
				if ok, _ := validation.Covers(held, role.Rules); ok {
					t.Errorf("seed %d: hop %s: the subject already holds the role's rules", seed, h.String())
				}
			}
		}
	}
	t.Logf("%d hops checked", total)
	if total == 0 {
		t.Error("no hops: the worlds do not discriminate")
	}
}
