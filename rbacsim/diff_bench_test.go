package rbacsim

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// The diff benchmark's worlds: the benchmark model's 25,000 objects plus 2,500 more bindings
// (500 ClusterRoleBindings, 2,000 RoleBindings), 27,500 objects; NEW is OLD after a large pull
// request: 600 roles edited (a rule added, removed or replaced), 300 bindings given a subject,
// 100 bindings pointed at another role and 100 deleted.
const (
	diffBenchExtraCRBs = 500
	diffBenchExtraRBs  = 2000
	diffBenchEdits     = 200
)

var diffBenchObjects = sync.OnceValue(func() *Objects {
	objs, err := Parse("bench.yaml", benchManifests())
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewSource(3))
	var b strings.Builder
	for i := 0; i < diffBenchExtraCRBs; i++ {
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: extra-crb-%d}\n", i)
		fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
		benchSubjects(r, &b, "")
	}
	for i := 0; i < diffBenchExtraRBs; i++ {
		ns := fmt.Sprintf("ns-%d", r.Intn(benchNamespaces))
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: extra-rb-%d, namespace: %s}\n", i, ns)
		fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
		benchSubjects(r, &b, ns)
	}
	extra, err := Parse("extra.yaml", []byte(b.String()))
	if err != nil {
		panic(err)
	}
	objs.Append(extra)
	return objs
})

// diffBenchNew copies the objects and edits them.
func diffBenchNew(old *Objects) *Objects {
	o := &Objects{Sources: old.Sources}
	for _, x := range old.Roles {
		o.Roles = append(o.Roles, x.DeepCopy())
	}
	for _, x := range old.ClusterRoles {
		o.ClusterRoles = append(o.ClusterRoles, x.DeepCopy())
	}
	for _, x := range old.RoleBindings {
		o.RoleBindings = append(o.RoleBindings, x.DeepCopy())
	}
	for _, x := range old.ClusterRoleBindings {
		o.ClusterRoleBindings = append(o.ClusterRoleBindings, x.DeepCopy())
	}
	r := rand.New(rand.NewSource(4))
	rule := func() rbacv1.PolicyRule {
		res := benchResources[r.Intn(len(benchResources))]
		return rbacv1.PolicyRule{APIGroups: []string{benchGroupsOf[res]}, Resources: []string{res}, Verbs: []string{benchVerbs[r.Intn(len(benchVerbs))]}}
	}
	roleRules := func() *[]rbacv1.PolicyRule {
		if r.Intn(5) == 0 {
			return &o.ClusterRoles[r.Intn(len(o.ClusterRoles))].Rules
		}
		return &o.Roles[r.Intn(len(o.Roles))].Rules
	}
	for i := 0; i < diffBenchEdits; i++ {
		rules := roleRules()
		*rules = append(*rules, rule())
		if rules = roleRules(); len(*rules) > 0 {
			*rules = (*rules)[1:]
		}
		if rules = roleRules(); len(*rules) > 0 {
			(*rules)[r.Intn(len(*rules))] = rule()
		}
	}
	for i := 0; i < 300; i++ {
		b := o.RoleBindings[r.Intn(len(o.RoleBindings))]
		b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", r.Intn(benchUsers))})
	}
	for i := 0; i < 100; i++ {
		b := o.ClusterRoleBindings[r.Intn(len(o.ClusterRoleBindings))]
		b.RoleRef.Name = fmt.Sprintf("cr-%d", r.Intn(benchClusterRoles))
	}
	for i := 0; i < 100; i++ {
		j := r.Intn(len(o.RoleBindings))
		o.RoleBindings = append(o.RoleBindings[:j], o.RoleBindings[j+1:]...)
	}
	return o
}

func BenchmarkDiff(b *testing.B) {
	oldObjs := diffBenchObjects()
	newObjs := diffBenchNew(oldObjs)
	oldM, newM := NewModel(oldObjs), NewModel(newObjs)
	n := len(oldObjs.Roles) + len(oldObjs.ClusterRoles) + len(oldObjs.RoleBindings) + len(oldObjs.ClusterRoleBindings)
	if n != 27500 {
		b.Fatalf("the OLD world has %d objects, want 27,500", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	var changes []Change
	for i := 0; i < b.N; i++ {
		changes = Diff(oldM, newM)
	}
	reportCPU(b, processCPU()-cpu, "diffs")
	risky := 0
	for _, c := range changes {
		if c.Risky {
			risky++
		}
	}
	b.ReportMetric(float64(len(changes)), "changes")
	b.ReportMetric(float64(risky), "risky")
}
