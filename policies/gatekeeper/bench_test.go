package gatekeeper

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/verdict-dev/verdict/policies"
)

// benchmarkTemplate judges one labelled Pod with k8srequiredlabels under one engine: the figure of
// docs/performance.md.
func benchmarkTemplate(b *testing.B, engine EngineChoice) {
	s := compile(b, Options{Engine: engine, Store: policies.NewStore()}, requiredLabels,
		constraintYAML("K8sRequiredLabels", "owner", `{match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}, parameters: {labels: [owner, team]}}`))
	pod := object(b, `{apiVersion: v1, kind: Pod, metadata: {name: web, namespace: team-a, labels: {team: a, app: web}},
  spec: {containers: [{name: web, image: "registry.example.com/web:1.2.3", resources: {limits: {cpu: 500m, memory: 128Mi}}}]}}`)
	req := request(pod, policies.Create)
	ctx := context.Background()
	if out := s.Validate(ctx, req); len(out.Findings) != 1 || len(out.Errors) > 0 {
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

func BenchmarkGatekeeperRego(b *testing.B) { benchmarkTemplate(b, PreferRego) }

func BenchmarkGatekeeperCEL(b *testing.B) { benchmarkTemplate(b, PreferCEL) }

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
