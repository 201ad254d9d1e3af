package rbacsim

import (
	"context"
	"sync"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/verdict-dev/verdict/internal/fixtures"
)

// The benchmark model is fixtures.RBACWorld: 5,000 roles and 20,000 bindings.
var (
	benchNamespaces   = fixtures.WorldNamespaces
	benchClusterRoles = fixtures.WorldClusterRoles
	benchUsers        = fixtures.WorldUsers
	benchResources    = fixtures.WorldResources
	benchGroupsOf     = fixtures.WorldGroupOf
	benchVerbs        = fixtures.WorldVerbs
	benchSubjects     = fixtures.WorldSubjects
	benchManifests    = sync.OnceValue(fixtures.RBACWorld)
)

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
	questions := fixtures.WorldQuestions(n)
	out := make([]authorizer.Attributes, n)
	for i, q := range questions {
		u, err := Impersonate(q.User, q.Groups)
		if err != nil {
			panic(err)
		}
		out[i] = &authorizer.AttributesRecord{User: u, Verb: q.Verb, APIGroup: q.APIGroup,
			Resource: q.Resource, Namespace: q.Namespace, Name: q.Name, ResourceRequest: true}
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
