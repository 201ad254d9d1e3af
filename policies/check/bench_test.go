package check

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-dev/verdict/internal/fixtures"
	"github.com/verdict-dev/verdict/policies/bundle"
	"github.com/verdict-dev/verdict/policies/job"
	"github.com/verdict-dev/verdict/policies/library"
)

var writeManifests = flag.String("write-manifests", "", "write the benchmark's 10,000 manifests to this folder and stop (for comparisons with other tools)")

// generateManifests writes n manifests into dir, 100 to a file: Deployments, Pods, Services and
// ConfigMaps, about one in five violating a default policy.
func generateManifests(tb testing.TB, dir string, n int) {
	tb.Helper()
	var b strings.Builder
	file := 0
	flush := func() {
		if b.Len() == 0 {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%04d.yaml", file)), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		b.Reset()
		file++
	}
	for i := 0; i < n; i++ {
		image := fmt.Sprintf("registry.example.com/app%d:1.%d", i%50, i%7)
		if i%5 == 0 {
			image = "nginx:latest"
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%d, namespace: team-%d, labels: {app: web-%d, owner: team-%d}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web-%d}}
  template:
    metadata: {labels: {app: web-%d}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: %s
        ports: [{containerPort: 8080}]
        resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`, i, i%20, i, i%20, i, i, image)
		case 1:
			fmt.Fprintf(&b, `apiVersion: v1
kind: Pod
metadata: {name: job-%d, namespace: team-%d, labels: {app: job-%d}}
spec:
  hostNetwork: %t
  containers:
  - name: main
    image: %s
    resources: {limits: {memory: 64Mi}}
`, i, i%20, i, i%10 == 1, image)
		case 2:
			fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata: {name: svc-%d, namespace: team-%d}
spec:
  selector: {app: web-%d}
  ports: [{port: 80, targetPort: 8080}]
`, i, i%20, i)
		default:
			fmt.Fprintf(&b, `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-%d, namespace: team-%d}
data: {key: value-%d}
`, i, i%20, i)
		}
		if (i+1)%100 == 0 {
			flush()
		} else {
			b.WriteString("---\n")
		}
	}
	flush()
}

func TestWriteBenchmarkManifests(t *testing.T) {
	if *writeManifests == "" {
		t.Skip("only with -write-manifests DIR")
	}
	if err := os.MkdirAll(*writeManifests, 0o755); err != nil {
		t.Fatal(err)
	}
	generateManifests(t, *writeManifests, 10000)
}

// BenchmarkCheck10k runs a whole check (read, load the default set, judge, report) over 10,000
// manifests. Run it with -cpu to compare one core with all.
func BenchmarkCheck10k(b *testing.B) {
	dir := b.TempDir()
	generateManifests(b, dir, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Run(ctx, job.Options{Policies: bundle.Options{Library: library.FS}, Inputs: []string{dir}})
		if err != nil {
			b.Fatal(err)
		}
		if r.Summary.Objects != 10000 {
			b.Fatalf("judged %d objects", r.Summary.Objects)
		}
		if err := r.Write(discard{}, "json"); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkCheckPods judges 10,000 Pods (one file) with one required-label rule written in each
// policy format, as the comparisons with gator, conftest and kyverno do (docs/performance.md).
func BenchmarkCheckPods(b *testing.B) {
	file := filepath.Join(b.TempDir(), "pods.yaml")
	if err := os.WriteFile(file, fixtures.Pods(10000), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"gatekeeper", "rego", "vap"} {
		b.Run(format, func(b *testing.B) {
			opts := job.Options{Policies: bundle.Options{Paths: []string{filepath.Join("..", "..", "test", "compare", "requiredlabel", format)}}, Inputs: []string{file}}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := Run(context.Background(), opts)
				if err != nil {
					b.Fatal(err)
				}
				if r.Summary.Objects != 10000 || r.Summary.Denied != fixtures.PodsWithoutOwner(10000) || r.Failed() {
					b.Fatalf("judged %d objects, denied %d, errors %v", r.Summary.Objects, r.Summary.Denied, r.Errors)
				}
				if err := r.Write(discard{}, "json"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
