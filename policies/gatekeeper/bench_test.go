package gatekeeper

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/policies"
)

// benchmarkTemplate judges one labelled Pod with k8srequiredlabels under one engine: the figure of
// docs/performance.md. The Pod lacks one of the two labels (one violation) unless allowed.
func benchmarkTemplate(b *testing.B, engine EngineChoice, allowed bool) {
	s := compile(b, Options{Engine: engine, Store: policies.NewStore()}, requiredLabels,
		constraintYAML("K8sRequiredLabels", "owner", `{match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}, parameters: {labels: [owner, team]}}`))
	pod := object(b, `{apiVersion: v1, kind: Pod, metadata: {name: web, namespace: team-a, labels: {team: a, app: web}},
  spec: {containers: [{name: web, image: "registry.example.com/web:1.2.3", resources: {limits: {cpu: 500m, memory: 128Mi}}}]}}`)
	want := 1
	if allowed {
		pod.SetLabels(map[string]string{"team": "a", "app": "web", "owner": "alice"})
		want = 0
	}
	req := request(pod, policies.Create)
	ctx := context.Background()
	if out := s.Validate(ctx, req); len(out.Findings) != want || len(out.Errors) > 0 {
		b.Fatalf("outcome = %+v", out)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		s.Validate(ctx, req)
	}
	cpu = processCPU() - cpu
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	if cpu > 0 {
		// CPU time is not inflated by other processes competing for the cores, as wall time is.
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "evals/cpu-s")
	}
}

func BenchmarkGatekeeperRego(b *testing.B) { benchmarkTemplate(b, PreferRego, false) }

func BenchmarkGatekeeperCEL(b *testing.B) { benchmarkTemplate(b, PreferCEL, false) }

func BenchmarkGatekeeperRegoAllowed(b *testing.B) { benchmarkTemplate(b, PreferRego, true) }

func BenchmarkGatekeeperCELAllowed(b *testing.B) { benchmarkTemplate(b, PreferCEL, true) }

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
