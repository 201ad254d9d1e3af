package rbacsim

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// The benchmark model: 5,000 roles (4,000 Roles in 100 namespaces and 1,000 ClusterRoles) and 20,000
// bindings (18,000 RoleBindings and 2,000 ClusterRoleBindings), each binding naming three subjects
// among 5,000 users, 200 groups and 50 service accounts per namespace.
const (
	benchNamespaces   = 100
	benchRolesPerNS   = 40
	benchClusterRoles = 1000
	benchRBsPerNS     = 180
	benchCRBs         = 2000
	benchUsers        = 5000
	benchGroups       = 200
	benchSAsPerNS     = 50
)

var benchResources = []string{"pods", "services", "configmaps", "secrets", "deployments", "statefulsets", "jobs", "cronjobs", "ingresses", "leases"}
var benchGroupsOf = map[string]string{"deployments": "apps", "statefulsets": "apps", "jobs": "batch", "cronjobs": "batch", "ingresses": "networking.k8s.io", "leases": "coordination.k8s.io"}
var benchVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

func benchRules(r *rand.Rand, b *strings.Builder) {
	b.WriteString("rules:\n")
	for i := 0; i < 5; i++ {
		res := benchResources[r.Intn(len(benchResources))]
		verbs := []string{benchVerbs[r.Intn(len(benchVerbs))], benchVerbs[r.Intn(len(benchVerbs))]}
		names := ""
		if r.Intn(5) == 0 {
			names = fmt.Sprintf(", resourceNames: [obj-%d]", r.Intn(10))
		}
		sub := ""
		if r.Intn(6) == 0 {
			sub = "/status"
		}
		fmt.Fprintf(b, "- {apiGroups: [%q], resources: [%s%s], verbs: [%s]%s}\n", benchGroupsOf[res], res, sub, strings.Join(verbs, ", "), names)
	}
}

func benchSubjects(r *rand.Rand, b *strings.Builder, ns string) {
	b.WriteString("subjects:\n")
	for i := 0; i < 3; i++ {
		switch r.Intn(3) {
		case 0:
			fmt.Fprintf(b, "- {kind: User, name: user-%d, apiGroup: rbac.authorization.k8s.io}\n", r.Intn(benchUsers))
		case 1:
			fmt.Fprintf(b, "- {kind: Group, name: group-%d, apiGroup: rbac.authorization.k8s.io}\n", r.Intn(benchGroups))
		default:
			san := fmt.Sprintf("ns-%d", r.Intn(benchNamespaces))
			if ns != "" && r.Intn(2) == 0 {
				fmt.Fprintf(b, "- {kind: ServiceAccount, name: sa-%d}\n", r.Intn(benchSAsPerNS))
				continue
			}
			fmt.Fprintf(b, "- {kind: ServiceAccount, name: sa-%d, namespace: %s}\n", r.Intn(benchSAsPerNS), san)
		}
	}
}

var benchManifests = sync.OnceValue(func() []byte {
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	for i := 0; i < benchClusterRoles; i++ {
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr-%d}\n", i)
		benchRules(r, &b)
	}
	for ns := 0; ns < benchNamespaces; ns++ {
		for i := 0; i < benchRolesPerNS; i++ {
			fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role-%d, namespace: ns-%d}\n", i, ns)
			benchRules(r, &b)
		}
	}
	for i := 0; i < benchCRBs; i++ {
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: crb-%d}\n", i)
		fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
		benchSubjects(r, &b, "")
	}
	for ns := 0; ns < benchNamespaces; ns++ {
		for i := 0; i < benchRBsPerNS; i++ {
			fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb-%d, namespace: ns-%d}\n", i, ns)
			if r.Intn(2) == 0 {
				fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: role-%d}\n", r.Intn(benchRolesPerNS))
			} else {
				fmt.Fprintf(&b, "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-%d}\n", r.Intn(benchClusterRoles))
			}
			benchSubjects(r, &b, fmt.Sprintf("ns-%d", ns))
		}
	}
	return []byte(b.String())
})

var benchModel = sync.OnceValue(func() *Model {
	objs, err := Parse("bench.yaml", benchManifests())
	if err != nil {
		panic(err)
	}
	if len(objs.Roles)+len(objs.ClusterRoles) != 5000 || len(objs.RoleBindings)+len(objs.ClusterRoleBindings) != 20000 {
		panic("benchmark model has the wrong size")
	}
	return NewModel(objs)
})

// benchRequests are requests by impersonated users, as can-i makes them: users, service accounts
// (with their groups) and users in groups.
func benchRequests(n int) []authorizer.Attributes {
	r := rand.New(rand.NewSource(2))
	out := make([]authorizer.Attributes, n)
	for i := range out {
		var name string
		var groups []string
		switch r.Intn(3) {
		case 0:
			name = fmt.Sprintf("user-%d", r.Intn(benchUsers))
		case 1:
			name = fmt.Sprintf("system:serviceaccount:ns-%d:sa-%d", r.Intn(benchNamespaces), r.Intn(benchSAsPerNS))
		default:
			name = fmt.Sprintf("user-%d", r.Intn(benchUsers))
			groups = []string{fmt.Sprintf("group-%d", r.Intn(benchGroups)), fmt.Sprintf("group-%d", r.Intn(benchGroups))}
		}
		u, err := Impersonate(name, groups)
		if err != nil {
			panic(err)
		}
		res := benchResources[r.Intn(len(benchResources))]
		out[i] = &authorizer.AttributesRecord{User: u, Verb: benchVerbs[r.Intn(len(benchVerbs))], APIGroup: benchGroupsOf[res],
			Resource: res, Namespace: fmt.Sprintf("ns-%d", r.Intn(benchNamespaces)), Name: fmt.Sprintf("obj-%d", r.Intn(10)), ResourceRequest: true}
	}
	return out
}

func BenchmarkAuthorize(b *testing.B) {
	m := benchModel()
	reqs := benchRequests(4096)
	ctx := context.Background()
	allowedN := 0
	for i := range reqs {
		if d, _, _ := m.Authorize(ctx, reqs[i]); d == authorizer.DecisionAllow {
			allowedN++
		}
	}
	b.Logf("%d of %d sample requests allowed", allowedN, len(reqs))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		_, _, _ = m.Authorize(ctx, reqs[i&(len(reqs)-1)])
	}
	reportCPU(b, processCPU()-cpu, "decisions")
}

// reportCPU adds operations per wall-clock second and CPU nanoseconds per operation (and operations per
// CPU second), the latter unaffected by other processes competing for the cores.
func reportCPU(b *testing.B, cpu time.Duration, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), unit+"/cpu-s")
	}
}

func BenchmarkWhoCan(b *testing.B) {
	m := benchModel()
	for _, tt := range []struct {
		name string
		req  Question
	}{
		{"namespace", Question{Verb: "get", Type: "secrets", Namespace: "ns-7"}},
		{"all-namespaces", Question{Verb: "get", Type: "secrets", AllNamespaces: true}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				grants, _ := m.WhoCan(tt.req)
				n = len(grants)
			}
			reportCPU(b, processCPU()-cpu, "queries")
			b.ReportMetric(float64(n), "subjects")
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	data := benchManifests()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		objs, err := Parse("bench.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		NewModel(objs)
	}
	reportCPU(b, processCPU()-cpu, "loads")
}
